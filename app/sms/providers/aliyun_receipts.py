"""Aliyun's delivery receipts (SmsReport, HTTP batch push), read into Receipts.

The body is a JSON array of objects with phone_number, send_time, report_time, success, err_code,
err_msg, sms_size, biz_id and out_id; times are Beijing time, "YYYY-MM-DD HH:MM:SS".
"""

import json
from datetime import datetime

from app.core.timeutil import BEIJING
from app.sms.providers.aliyun import BATCH_OUT_ID_PREFIX, normalize_phone
from app.sms.providers.base import Receipt


def parse_receipts(body: bytes) -> list[Receipt]:
    """Aliyun's SmsReport push; ValueError with a readable message when it is malformed."""
    try:
        data = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except UnicodeDecodeError as exc:
        raise ValueError("body is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON ({exc.msg} at position {exc.pos})") from exc
    if not isinstance(data, list):
        raise ValueError("body must be a JSON array of reports")
    return [_receipt(n, entry) for n, entry in enumerate(data)]


def _receipt(n: int, entry) -> Receipt:
    if not isinstance(entry, dict):
        raise ValueError(f"report {n} is not an object")
    biz_id = _field(n, entry, "biz_id")
    success = entry.get("success")
    if isinstance(success, str) and success.lower() in ("true", "false"):
        success = success.lower() == "true"
    if not isinstance(success, bool):
        raise ValueError(f"report {n}: success must be true or false")
    out_id = str(entry["out_id"]) if entry.get("out_id") not in (None, "") else None
    provider_id = biz_id
    if out_id and out_id.startswith(BATCH_OUT_ID_PREFIX):  # see aliyun.py's docstring
        provider_id = f"{biz_id}:{normalize_phone(_field(n, entry, 'phone_number'))}"
    error_code = entry.get("err_code")
    phone = entry.get("phone_number")
    return Receipt(provider_id=provider_id, out_id=out_id, delivered=success,
                   error_code=None if success or not error_code else str(error_code),
                   reported_at=_beijing_time(n, _field(n, entry, "report_time")),
                   phone=normalize_phone(str(phone)) if phone else None)


def _field(n: int, entry: dict, key: str) -> str:
    value = entry.get(key)
    if value is None or isinstance(value, bool | dict | list) or str(value).strip() == "":
        raise ValueError(f"report {n}: {key} is missing")
    return str(value).strip()


def _beijing_time(n: int, text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise ValueError(f"report {n}: report_time {text[:30]!r} is not "
                         "YYYY-MM-DD HH:MM:SS") from None
