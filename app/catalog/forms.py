"""Admin forms: read what was typed, check it, and say what is wrong in Chinese beside the field."""

import re

from app.catalog.halls import hall_items, hall_named, window_numbered
from app.catalog.models import AUDIENCES, Hall, Window
from app.core.ids import parse_ids
from app.licences.types import YEARS, licence_problems
from app.reading import kinds

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
FLAGS = ("bookable", "prereview", "fully_online", "courier")
PHONE_RE = re.compile(r"^[0-9+()\- ]{5,20}(转[0-9]{1,6})?$")
WINDOW_CODE_RE = re.compile(r"^[A-Za-z0-9-]{1,10}$")
GROUP_RE = re.compile(r"^[A-Za-z0-9]{1,4}$")
URL_RE = re.compile(r"^https?://[^\s<>\"']+$")


def _text(form, name: str, label: str, errors: dict, *, required=True, max_len=200) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        errors[name] = f"请输入{label}"
    elif len(value) > max_len:
        errors[name] = f"{label}不能超过 {max_len} 个字"
    return value


def _int(form, name: str, label: str, errors: dict, low: int, high: int):
    raw = (form.get(name) or "").strip()
    if not raw:
        errors[name] = f"请输入{label}"
        return raw
    if not raw.isdecimal():
        errors[name] = f"{label}只能填数字"
        return raw
    if not low <= int(raw) <= high:
        errors[name] = f"{label}应在 {low} 到 {high} 之间"
        return raw
    return int(raw)


def _in_form_order(errors: dict, data: dict) -> dict:
    """Errors in the order their fields appear, so the summary reads top to bottom."""
    return {key: errors[key] for key in data if key in errors}


def _ids(form, name: str) -> list[int]:
    return parse_ids(form.getlist(name))


def item_form(form, topics) -> tuple[dict, dict]:
    """An item's fields from the admin form, and an error per bad field."""
    errors: dict[str, str] = {}
    data = {
        "code": _text(form, "code", "事项编码", errors, max_len=40),
        "name": _text(form, "name", "事项名称", errors, max_len=120),
        "department": _text(form, "department", "实施部门", errors, max_len=80),
        "audience": form.get("audience", ""),
        "topic": form.get("topic", ""),
        "summary": _text(form, "summary", "简介", errors, required=False, max_len=1000),
        "keywords": _text(form, "keywords", "搜索关键词", errors, required=False),
        "legal_days": _int(form, "legal_days", "法定时限", errors, 1, 365),
        "promised_days": _int(form, "promised_days", "承诺时限", errors, 0, 365),
        "fee": _text(form, "fee", "收费标准", errors, required=False, max_len=80) or "不收费",
        "visits": _int(form, "visits", "跑动次数", errors, 0, 1),
        "steps": [s.strip() for s in (form.get("steps") or "").splitlines() if s.strip()],
        "legal_basis": _text(form, "legal_basis", "设定依据", errors, required=False,
                             max_len=1000),
        "phone": _text(form, "phone", "咨询电话", errors, required=False, max_len=40),
        "hall_ids": _ids(form, "hall_ids"),
        "window_ids": _ids(form, "window_ids"),
        "licence_type": (form.get("licence_type") or "")[:40] or None,
        "licence_years": _years(form, errors),
    }
    data |= {flag: form.get(flag) == "1" for flag in FLAGS}
    if data["code"] and "code" not in errors and not CODE_RE.match(data["code"]):
        errors["code"] = "事项编码只能用字母、数字、短横线和下划线"
    if data["audience"] not in AUDIENCES:
        errors["audience"] = "请选择服务对象"
    if data["topic"] not in topics:
        errors["topic"] = "请选择主题"
    if not data["steps"]:
        errors["steps"] = "请填写办理流程,每行一步"
    elif len(data["steps"]) > 20:
        errors["steps"] = "办理流程最多 20 步"
    if (isinstance(data["legal_days"], int) and isinstance(data["promised_days"], int)
            and data["promised_days"] > data["legal_days"]):
        errors["promised_days"] = "承诺时限不能超过法定时限"
    if not data["hall_ids"]:
        errors["hall_ids"] = "请至少选择一个办理大厅"
    audience = data["audience"] if data["audience"] in AUDIENCES else None
    for key, message in licence_problems(data["licence_type"], data["licence_years"],
                                         audience).items():
        errors.setdefault(key, message)
    return data, _in_form_order(errors, data)


def _years(form, errors: dict):
    """办结后核发的证照's validity: whole years, or empty for long-term (长期)."""
    raw = (form.get("licence_years") or "").strip()
    if not raw:
        return None
    if not raw.isdecimal() or len(raw) > 3:  # a longer number is past any validity anyway
        errors["licence_years"] = (f"证照有效期只能填 {YEARS[0]} 到 {YEARS[1]} 的整数年数,"
                                   "长期有效请留空")
        return raw
    return int(raw)


def material_form(form) -> tuple[dict, dict]:
    """A material's fields from the admin form, and an error per bad field."""
    errors: dict[str, str] = {}
    data = {
        "name": _text(form, "name", "材料名称", errors, max_len=120),
        "original": form.get("original", ""),
        "copies": _int(form, "copies", "份数", errors, 1, 20),
        "notes": _text(form, "notes", "说明", errors, required=False, max_len=500),
        "photo_ok": form.get("photo_ok") == "1",
        "may_be_missing": form.get("may_be_missing") == "1",
        "document_kind": form.get("document_kind") or None,
        "licence_type": (form.get("licence_type") or "")[:40] or None,
    }
    errors |= licence_problems(data["licence_type"])
    if data["document_kind"] and not kinds.get(data["document_kind"]):
        errors["document_kind"] = "请从列表中选择证件类型"
    if data["original"] not in ("1", "0"):
        errors["original"] = "请选择原件或复印件"
    else:
        data["original"] = data["original"] == "1"
    return data, errors


def bundle_form(form) -> tuple[dict, dict]:
    """A bundle's fields from the admin form, and an error per bad field."""
    errors: dict[str, str] = {}
    data = {
        "code": _text(form, "code", "一件事编码", errors, max_len=40),
        "name": _text(form, "name", "名称", errors, max_len=120),
        "summary": _text(form, "summary", "简介", errors, required=False, max_len=1000),
        "keywords": _text(form, "keywords", "搜索关键词", errors, required=False),
        "audience": form.get("audience", ""),
        "item_ids": _ids(form, "item_ids"),
    }
    if data["code"] and "code" not in errors and not CODE_RE.match(data["code"]):
        errors["code"] = "编码只能用字母、数字、短横线和下划线"
    if data["audience"] not in AUDIENCES:
        errors["audience"] = "请选择服务对象"
    if len(data["item_ids"]) < 2:
        errors["item_ids"] = "一件事至少包含两个事项"
    return data, _in_form_order(errors, data)


def hall_form(form, hall: Hall | None) -> tuple[dict, dict]:
    """A hall's fields from the admin form, and an error per bad field."""
    errors: dict[str, str] = {}
    data = {"name": _text(form, "name", "大厅名称", errors, max_len=80),
            "short_name": _text(form, "short_name", "简称", errors, max_len=40),
            "address": _text(form, "address", "地址", errors, max_len=200),
            "hours": _text(form, "hours", "办公时间", errors, max_len=200),
            "phone": _text(form, "phone", "咨询电话", errors, max_len=40),
            "map_url": _text(form, "map_url", "地图链接", errors, required=False, max_len=300),
            "area": _text(form, "area", "服务区域", errors, required=False, max_len=80)}
    if "phone" not in errors and not PHONE_RE.match(data["phone"]):
        errors["phone"] = "请输入正确的咨询电话,如 0482-8266666"
    if data["map_url"] and "map_url" not in errors and not URL_RE.match(data["map_url"]):
        errors["map_url"] = "地图链接应以 https:// 开头,请从地图应用里复制完整链接"
    if "name" not in errors:
        clash = hall_named(data["name"])
        if clash is not None and (hall is None or clash != hall.id):
            errors["name"] = "已有同名的大厅"
    return data, _in_form_order(errors, data)


def window_form(form, hall: Hall, window: Window | None) -> tuple[dict, dict]:
    """A window's fields from the admin form, and an error per bad field."""
    errors: dict[str, str] = {}
    data = {"code": _text(form, "code", "窗口编号", errors, max_len=10).upper(),
            "name": _text(form, "name", "窗口名称", errors, max_len=80),
            "group": _text(form, "group", "叫号分组", errors, max_len=4).upper(),
            "item_ids": _ids(form, "item_ids")}
    if "code" not in errors and not WINDOW_CODE_RE.match(data["code"]):
        errors["code"] = "窗口编号只能用字母、数字和短横线,如 A01"
    elif "code" not in errors:
        clash = window_numbered(hall, data["code"])
        if clash is not None and (window is None or clash != window.id):
            errors["code"] = f"本大厅已有 {data['code']} 号窗口"
    if "group" not in errors and not GROUP_RE.match(data["group"]):
        errors["group"] = "叫号分组只能用字母或数字,如 A"
    offered = {i.id for i in hall_items(hall)}
    if set(data["item_ids"]) - offered:
        errors["item_ids"] = "只能选择本大厅办理的事项"
    return data, _in_form_order(errors, data)
