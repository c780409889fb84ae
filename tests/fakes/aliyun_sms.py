"""A fake of Aliyun's SMS API (Dysmsapi 2017-05-25, RPC style) on 127.0.0.1, for tests and bench.

It checks what the real gateway checks, with its own code for the signature so that a bug in
the client's signing cannot hide here: required parameters, the access key, the HMAC-SHA1
signature over GET or POST parameters, a Timestamp within 31 minutes and a SignatureNonce used
once. Then it answers like SendSms / SendBatchSms: OK with a BizId (one per call, shared by a
batch's messages), or an isv.* code with HTTP 200; QuerySendDetails lists what one number was
sent on one day, with each call's OutId. Assumptions where the documentation is silent: a batch
with one bad number or one throttled number is refused as a whole, and a "slow" answer still
sends the message after the client has given up, as the real one may.

The test controls the timing of a "slow" answer: the fake holds it until the test calls
release(), so a client's timeout fires however busy the machine is, and wait_held() / settle()
let the test wait for the fake instead of sleeping. reset() lets every held call finish first,
so no late message lands in the next test's records.

Run `python -m fakes.aliyun_sms` from tests/ to serve it in its own process: the first line of
stdout is its URL.
"""

import json
import re
import secrets
import socket
import sys
import threading
import time
import uuid
import zlib
from base64 import b64encode
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta, timezone
from hashlib import sha1
from hmac import compare_digest
from hmac import new as hmac_new
from urllib.parse import parse_qsl, quote
from urllib.request import urlopen

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

ACCESS_KEY_ID = "LTAI5tPalmFakeKey0001"
ACCESS_KEY_SECRET = "palm-fake-aliyun-secret-5d2c"
SIGN_NAME = "掌上办"
VERSION = "2017-05-25"
TIMESTAMP_WINDOW = 31 * 60  # the RPC docs: a Timestamp is valid for 31 minutes
PHONE = re.compile(r"^1[3-9]\d{9}$")
BEIJING = timezone(timedelta(hours=8))
# Used when app.sms.templates cannot be imported (the fake runs in its own process from tests/).
TEMPLATE_KEYS = ("login_code", "lookup_code", "link_code", "rating_invite", "rating_reply",
                 "rating_case_due", "rating_case_overdue", "booking_confirmed", "booking_reminder")
COMMON = ("Action", "Version", "AccessKeyId", "SignatureMethod", "SignatureVersion",
          "SignatureNonce", "Timestamp", "Signature")

# Forced answers for fake.script(): name -> (HTTP status, Code, Message).
FORCED = {
    "throttle": (200, "isv.BUSINESS_LIMIT_CONTROL", "触发号码分钟级流控Permits:1"),
    "throttle_api": (400, "Throttling.User", "Request was denied due to user flow control."),
    "amount": (200, "isv.AMOUNT_NOT_ENOUGH", "账户余额不足"),
    "error500": (500, "InternalError", "The request processing has failed due to some unknown "
                                       "error, exception or failure."),
    "error503": (503, "ServiceUnavailable", "The request has failed due to a temporary failure "
                                            "of the server."),
}


def template_code(key: str) -> str:
    """A stable Aliyun-style template code for one of our template keys."""
    return f"SMS_{zlib.crc32(key.encode()):010d}"


def template_codes(keys=None) -> dict[str, str]:
    """Codes for our template keys (all of app.sms.templates when it can be imported)."""
    if keys is None:
        try:
            from app.sms.templates import TEMPLATES
            keys = list(TEMPLATES)
        except ImportError:
            keys = TEMPLATE_KEYS
    return {key: template_code(key) for key in keys}


def provider_settings(url: str, keys=None) -> dict[str, str]:
    """The ALIYUN_* settings (as environment strings) that point the app at a fake."""
    return {"ALIYUN_SMS_ENDPOINT": url, "ALIYUN_SMS_SIGN_NAME": SIGN_NAME,
            "ALIYUN_SMS_TEMPLATES": json.dumps(template_codes(keys))}


def sent_count(url: str) -> int:
    """How many messages a fake (maybe in another process) has accepted."""
    with urlopen(url.rstrip("/") + "/_fake/sent", timeout=5) as response:
        return json.load(response)["count"]


def percent_encode(value: str) -> str:
    return quote(str(value), safe="~")


def expected_signature(params: dict, secret: str, method: str) -> str:
    """Written apart from the client's sign_rpc() on purpose."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params.items()
                   if k != "Signature")
    canonical = "&".join(f"{k}={v}" for k, v in pairs)
    to_sign = f"{method}&%2F&{percent_encode(canonical)}"
    return b64encode(hmac_new(f"{secret}&".encode(), to_sign.encode(), sha1).digest()).decode()


class _Refusal(Exception):
    """An answer other than OK, raised from deep in the checks."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class _QuietHandler(WSGIRequestHandler):
    """Keep-alive like the real gateway, and no access log (it would carry phone numbers)."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle holds the body back
        # until the client's delayed ACK, several milliseconds a request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, *args, **kwargs):
        pass


class FakeAliyun:
    """SendSms and SendBatchSms on a thread; `sent` records every accepted message."""

    def __init__(self, port: int = 0):
        self.server = make_server("127.0.0.1", port, self._wsgi, threaded=True,
                                  request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.lock = threading.Lock()
        self._busy = threading.Condition()  # calls in flight, and calls held by "slow"
        self._in_flight = self._held = 0
        self._gate = threading.Event()  # set: held calls go on
        self.reset()

    def reset(self) -> None:
        """Back to a well-behaved gateway with nothing sent (held calls finish first)."""
        self.release()
        self.settle()
        self._gate.clear()
        with self.lock:
            self.keys = {ACCESS_KEY_ID: ACCESS_KEY_SECRET}
            self.sign_names = {SIGN_NAME}
            # None: any well-formed SMS_ code exists; else code -> the variables it needs.
            self.templates: dict[str, set[str]] | None = None
            self.throttle_per_minute: int | None = None  # like isv.BUSINESS_LIMIT_CONTROL
            self.sent: list[dict] = []
            self.calls: list[dict] = []  # every call answered: action, numbers, code
            self._forced: deque[str] = deque()
            self._nonces: dict[str, float] = {}
            self._history: dict[str, deque[float]] = defaultdict(deque)

    def start(self) -> "FakeAliyun":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FakeAliyun":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def script(self, *answers: str) -> None:
        """Force the next valid calls' answers: FORCED names, "garbage", "slow" or codes."""
        # "slow" holds the call until release(), then sends anyway, as a gateway past its
        # client's timeout may.
        with self.lock:
            self._forced.extend(answers)
        if "slow" in answers:
            self._gate.clear()  # held again, even after an earlier release()

    def wait_held(self, count: int = 1, timeout: float = 30) -> None:
        """Wait until `count` "slow" calls have arrived and are being held."""
        with self._busy:
            if not self._busy.wait_for(lambda: self._held >= count, timeout):
                raise AssertionError(f"{self._held} of {count} slow calls reached the fake")

    def release(self) -> None:
        """Let held calls go on: each sends its messages and answers."""
        self._gate.set()

    def settle(self, timeout: float = 30) -> None:
        """Wait until no call is in flight."""
        with self._busy:
            if not self._busy.wait_for(lambda: self._in_flight == 0, timeout):
                raise AssertionError("a call to the fake is still running")

    def delivered(self, phone: str, success: bool = True, err_code: str | None = None) -> None:
        """Record an operator's receipt for what was sent to this number (QuerySendDetails shows
        it as status 3, or 2 with the error code)."""
        with self.lock:
            for record in self.sent:
                if record["phone"] == phone:
                    record["status"] = 3 if success else 2
                    record["err_code"] = err_code or ("DELIVERED" if success else "MK:0001")

    def receipts(self, provider_ids=None, success: bool = True, err_code: str | None = None,
                 report_time: datetime | None = None) -> bytes:
        """An SmsReport push body for these BizIds or "<BizId>:<phone>" ids (default: all sent)."""
        wanted = None if provider_ids is None else {str(p) for p in provider_ids}
        reported = (report_time or datetime.now(UTC)).astimezone(BEIJING)
        code = err_code or ("DELIVERED" if success else "MK:0001")
        with self.lock:
            records = [r for r in self.sent if wanted is None or r["biz_id"] in wanted
                       or f"{r['biz_id']}:{r['phone']}" in wanted]
        return json.dumps([{
            "phone_number": r["phone"],
            "send_time": r["at"].astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "report_time": reported.strftime("%Y-%m-%d %H:%M:%S"), "success": success,
            "err_code": code, "err_msg": "用户接收成功" if success else "失败",
            "sms_size": "1", "biz_id": r["biz_id"], "out_id": r["out_id"] or "",
        } for r in records], ensure_ascii=False).encode()

    # -- the gateway ---------------------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        with self._busy:
            self._in_flight += 1
        try:
            return self._app(environ, start_response)
        finally:
            with self._busy:
                self._in_flight -= 1
                self._busy.notify_all()

    @Request.application
    def _app(self, request: Request) -> Response:
        if request.path == "/_fake/sent":
            with self.lock:
                return self._json(200, {"count": len(self.sent)})
        params = dict(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True))
        if request.method == "POST":
            params.update(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        try:
            self._check_request(request.method, params)
            forced = self._next_forced()
            if forced == "garbage":
                return Response("<html><body>502 Bad Gateway</body></html>", 200,
                                content_type="text/html")
            if forced == "slow":
                self._hold()
            elif forced:
                status, code, message = FORCED.get(forced, (200, forced, "forced by the test"))
                raise _Refusal(status, code, message)
            if params["Action"] == "QuerySendDetails":
                details = self._details(params)
                self._record_call(params, "OK")
                return self._answer(params, 200, {"Code": "OK", "Message": "OK", **details})
            biz_id = self._send(params)
        except _Refusal as refusal:
            self._record_call(params, refusal.code)
            return self._answer(params, refusal.status, {"Code": refusal.code,
                                                         "Message": refusal.message})
        self._record_call(params, "OK")
        return self._answer(params, 200, {"Code": "OK", "Message": "OK", "BizId": biz_id})

    def _check_request(self, method: str, params: dict) -> None:
        for name in COMMON:
            if not params.get(name):
                raise _Refusal(400, f"Missing{name}", f"{name} is mandatory for this action.")
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            raise _Refusal(400, "InvalidSignatureMethod", "Specified signature method is not "
                                                          "supported.")
        secret = self.keys.get(params["AccessKeyId"])
        if secret is None:
            raise _Refusal(404, "InvalidAccessKeyId.NotFound", "Specified access key is not "
                                                               "found.")
        self._check_timestamp(params["Timestamp"])
        if not compare_digest(params["Signature"], expected_signature(params, secret, method)):
            # Like the real one, it shows its string to sign, phone numbers and all.
            raise _Refusal(400, "SignatureDoesNotMatch", "Specified signature is not matched "
                           "with our calculation. server string to sign is:" + method + "&%2F&"
                           + percent_encode("&".join(f"{k}={v}" for k, v in sorted(
                               params.items()) if k != "Signature")))
        self._use_nonce(params["SignatureNonce"])
        if params["Action"] not in ("SendSms", "SendBatchSms", "QuerySendDetails"):
            raise _Refusal(404, "InvalidAction.NotFound", "Specified api is not found, please "
                                                          "check your url and method.")
        if params["Version"] != VERSION:
            raise _Refusal(400, "InvalidVersion", "Specified parameter Version is not valid.")

    def _check_timestamp(self, text: str) -> None:
        try:
            stamp = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise _Refusal(400, "InvalidTimeStamp.Format", "Specified time stamp or date value "
                                                           "is not well formatted.") from None
        if abs(time.time() - stamp.timestamp()) > TIMESTAMP_WINDOW:
            raise _Refusal(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value "
                                                            "is expired.")

    def _use_nonce(self, nonce: str) -> None:
        now = time.time()
        with self.lock:
            if nonce in self._nonces:
                raise _Refusal(400, "SignatureNonceUsed", "Specified signature nonce was used "
                                                          "already.")
            self._nonces[nonce] = now
            if len(self._nonces) > 10000:  # forget what the Timestamp check refuses anyway
                self._nonces = {n: t for n, t in self._nonces.items()
                                if t > now - TIMESTAMP_WINDOW}

    def _hold(self) -> None:
        with self._busy:
            self._held += 1
            self._busy.notify_all()
        try:
            if not self._gate.wait(60):  # a test that never releases must not hang the run
                raise _Refusal(500, "InternalError", "the test never released this call")
        finally:
            with self._busy:
                self._held -= 1
                self._busy.notify_all()

    def _details(self, params: dict) -> dict:
        """QuerySendDetails: one number's messages of one Beijing day, a page at a time."""
        _require(params, "PhoneNumber", "SendDate", "PageSize", "CurrentPage")
        try:
            day = datetime.strptime(params["SendDate"], "%Y%m%d").date()
            size, page = int(params["PageSize"]), int(params["CurrentPage"])
        except ValueError:
            raise _Refusal(200, "isv.INVALID_PARAMETERS", "参数格式不正确") from None
        if not 1 <= size <= 50 or page < 1:
            raise _Refusal(200, "isv.INVALID_PARAMETERS", "PageSize 取值范围为 1~50")
        with self.lock:
            found = [r for r in self.sent if r["phone"] == params["PhoneNumber"]
                     and r["at"].astimezone(BEIJING).date() == day
                     and params.get("BizId") in (None, "", r["biz_id"])]
        shown = found[::-1][(page - 1) * size:page * size]  # newest first
        return {"TotalCount": len(found), "SmsSendDetailDTOs": {"SmsSendDetailDTO": [{
            "PhoneNum": r["phone"], "SendStatus": r.get("status", 1),
            "ErrCode": r.get("err_code", ""), "TemplateCode": r["template_code"],
            "Content": "【%s】%s" % (r["sign_name"], json.dumps(r["params"], ensure_ascii=False)),
            "SendDate": r["at"].astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "ReceiveDate": "", "OutId": r["out_id"] or ""} for r in shown]}}

    def _next_forced(self) -> str | None:
        with self.lock:
            return self._forced.popleft() if self._forced else None

    def _send(self, params: dict) -> str:
        """Check the business parameters and record the messages; their shared BizId."""
        if params["Action"] == "SendSms":
            messages = self._single(params)
        else:
            messages = self._batch(params)
        self._check_messages(params["TemplateCode"], messages)
        biz_id = f"{secrets.randbelow(10**18):018d}^0"
        now = time.time()
        with self.lock:
            if any(self._over_limit(phone, now) for phone, _, _ in messages):
                raise _Refusal(200, "isv.BUSINESS_LIMIT_CONTROL", "触发号码分钟级流控Permits:"
                               f"{self.throttle_per_minute}")
            for phone, sign_name, values in messages:
                self._history[phone].append(now)
                self.sent.append({"action": params["Action"], "phone": phone,
                                  "sign_name": sign_name, "template_code": params["TemplateCode"],
                                  "params": values, "out_id": params.get("OutId"),
                                  "biz_id": biz_id, "at": datetime.now(UTC)})
        return biz_id

    def _single(self, params: dict) -> list[tuple[str, str, dict]]:
        _require(params, "PhoneNumbers", "SignName", "TemplateCode")
        phones = params["PhoneNumbers"].split(",")
        if len(phones) > 1000:
            raise _Refusal(200, "isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        values = _template_values(params.get("TemplateParam"))
        return [(phone, params["SignName"], values) for phone in phones]

    def _batch(self, params: dict) -> list[tuple[str, str, dict]]:
        _require(params, "PhoneNumberJson", "SignNameJson", "TemplateCode")
        phones = _json_list(params["PhoneNumberJson"], "PhoneNumberJson")
        signs = _json_list(params["SignNameJson"], "SignNameJson")
        values = _json_list(params.get("TemplateParamJson") or "[]", "TemplateParamJson")
        if len(phones) > 100:
            raise _Refusal(200, "isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        if len(signs) != len(phones) or (values and len(values) != len(phones)):
            raise _Refusal(200, "isv.INVALID_PARAMETERS", "签名、模板变量与号码的个数不一致")
        if len(params.get("OutId") or "") >= 256:
            raise _Refusal(200, "isv.INVALID_PARAMETERS", "OutId 超出长度限制")
        return [(str(phone), str(sign), _template_values(values[n] if values else None))
                for n, (phone, sign) in enumerate(zip(phones, signs, strict=True))]

    def _check_messages(self, template: str, messages: list[tuple[str, str, dict]]) -> None:
        if self.templates is None:
            known, needed = bool(re.fullmatch(r"SMS_\d+", template)), set()
        else:
            known, needed = template in self.templates, self.templates.get(template, set())
        if not known:
            raise _Refusal(200, "isv.SMS_TEMPLATE_ILLEGAL", "模板不合法(不存在或被拉黑)")
        for phone, sign_name, values in messages:
            if not PHONE.match(re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", phone)):
                raise _Refusal(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
            if sign_name not in self.sign_names:
                raise _Refusal(200, "isv.SMS_SIGNATURE_ILLEGAL", "签名不合法(不存在或被拉黑)")
            if not needed <= {k for k, v in values.items() if v}:
                raise _Refusal(200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")

    def _over_limit(self, phone: str, now: float) -> bool:
        if self.throttle_per_minute is None:
            return False
        history = self._history[phone]
        while history and history[0] <= now - 60:
            history.popleft()
        return len(history) >= self.throttle_per_minute

    def _record_call(self, params: dict, code: str) -> None:
        if params.get("Action") == "SendBatchSms":
            try:
                count = len(json.loads(params.get("PhoneNumberJson") or "[]"))
            except ValueError:
                count = 0
        elif params.get("Action") == "QuerySendDetails":
            count = 0
        else:
            count = len([p for p in (params.get("PhoneNumbers") or "").split(",") if p])
        with self.lock:
            self.calls.append({"action": params.get("Action"), "count": count, "code": code})

    def _answer(self, params: dict, status: int, body: dict) -> Response:
        body = {"RequestId": str(uuid.uuid4()).upper(), **body}
        if params.get("Format", "XML").upper() == "JSON":
            return self._json(status, body)
        tag = f"{params.get('Action') or 'Error'}Response"  # XML is the API's default format
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in body.items())
        return Response(f"<?xml version='1.0' encoding='UTF-8'?><{tag}>{inner}</{tag}>", status,
                        content_type="text/xml;charset=utf-8")

    @staticmethod
    def _json(status: int, body: dict) -> Response:
        return Response(json.dumps(body, ensure_ascii=False), status,
                        content_type="application/json;charset=utf-8")


def _require(params: dict, *names: str) -> None:
    for name in names:
        if not params.get(name):
            raise _Refusal(400, f"Missing{name}", f"{name} is mandatory for this action.")


def _json_list(text: str, name: str) -> list:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list):
        raise _Refusal(200, "isv.INVALID_PARAMETERS", f"{name} 不是 JSON 数组")
    return value


def _template_values(value) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Refusal(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法,只接受字符串值")
    return value


if __name__ == "__main__":
    fake = FakeAliyun(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(fake.url, flush=True)
    fake.server.serve_forever()  # until the parent terminates this process
