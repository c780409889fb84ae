"""SMS providers: a console one for development and Aliyun's Dysmsapi (2017-05-25, RPC style).

What Aliyun's documentation says, and what follows from it here:
- SendSms sends one message; `OutId` carries our idempotency key and comes back in the receipt.
- SendBatchSms sends one template to at most 100 numbers, with a sign name and parameters per
  number, but only one `OutId` for the whole call, and it answers one `BizId` shared by every
  message of the call. Receipts of a batch therefore differ only by `phone_number`, so a batched
  message's provider id is "<BizId>:<phone>", a number appears at most once per call, and the
  call's OutId starts with BATCH_OUT_ID_PREFIX so that parse_receipts() can tell the two apart.
- Neither call is idempotent, and a timed-out call may still have been sent: the reason says so.
  QuerySendDetails lists what one number was sent on one day, each with its call's OutId, so a
  retry first asks whether an earlier call got through (earlier_send) instead of sending twice.
- Requests are POSTed (form body) rather than GET so that phone numbers and codes stay out of
  URLs, which proxies log; the signature covers the method, so the body is signed as "POST".
- Receipts (SmsReport, HTTP batch push) are a JSON array of objects with phone_number,
  send_time, report_time, success, err_code, err_msg, sms_size, biz_id and out_id; times are
  Beijing time, "YYYY-MM-DD HH:MM:SS".
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import requests

from app.core.timeutil import BEIJING
from app.sms.providers.base import (
    PERMANENT,
    SENT,
    TECHNICAL,
    TEMPORARY,
    SendResult,
    SmsItem,
)

log = logging.getLogger(__name__)

API_VERSION = "2017-05-25"
BATCH_LIMIT = 100  # SendBatchSms: "单次调用最多支持 100 个手机号"
BATCH_OUT_ID_PREFIX = "batch-"


# Aliyun's codes by what a retry can change. Codes not listed: isv.* (a refusal of this request)
# is permanent, anything else (gateway, auth, our own bug) is technical.
TEMPORARY_CODES = {
    "isv.BUSINESS_LIMIT_CONTROL": "触发短信通道对该号码的发送频率限制",
    "isv.DAY_LIMIT_CONTROL": "达到控制台设置的日发送量限额",
    "isv.MONTH_LIMIT_CONTROL": "达到控制台设置的月发送量限额",
    "Throttling": "短信接口调用过于频繁",
    "Throttling.User": "短信接口调用过于频繁",
    "Throttling.Api": "短信接口调用过于频繁",
}
PERMANENT_CODES = {
    "isv.MOBILE_NUMBER_ILLEGAL": "手机号码格式不正确",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": "该模板不能发送国内号码",
    "isv.MOBILE_COUNT_OVER_LIMIT": "一次发送的号码数量超过限制",
    "isv.SMS_TEMPLATE_ILLEGAL": "短信模板不存在或未审核通过",
    "isv.TEMPLATE_MISSING_PARAMETERS": "短信模板缺少变量",
    "isv.INVALID_JSON_PARAM": "模板变量不合法(只接受字符串值)",
    "isv.PARAM_LENGTH_LIMIT": "模板变量超出长度限制",
    "isv.PARAM_NOT_SUPPORT_URL": "模板变量不支持链接",
    "isv.INVALID_PARAMETERS": "短信参数不合法",
    "isv.SMS_CONTENT_ILLEGAL": "短信内容包含禁止发送的内容",
    "isv.BLACK_KEY_CONTROL_LIMIT": "短信内容命中黑名单关键字",
    "isv.SMS_SIGNATURE_ILLEGAL": "短信签名不存在或未审核通过",
    "isv.SMS_SIGN_ILLEGAL": "短信签名禁止使用",
    "isv.SIGN_STATE_ILLEGAL": "短信签名不可用",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": "短信签名和模板类型不一致",
    "isv.AMOUNT_NOT_ENOUGH": "短信账户余额不足",
    "isv.OUT_OF_SERVICE": "短信业务停机(余额不足)",
    "isv.PRODUCT_UN_SUBSCRIPT": "账号未开通短信服务",
    "isv.PRODUCT_UNSUBSCRIBE": "账号未开通短信服务",
    "isv.ACCOUNT_NOT_EXISTS": "短信账号不存在",
    "isv.ACCOUNT_ABNORMAL": "短信账号异常",
    "isv.DENY_IP_RANGE": "发送服务器的 IP 所在地区被禁用",
    "isp.RAM_PERMISSION_DENY": "AccessKey 没有发送短信的权限",
}
TECHNICAL_CODES = {
    "SignatureDoesNotMatch": "阿里云签名不匹配,请检查 AccessKeySecret",
    "IncompleteSignature": "阿里云签名不完整",
    "InvalidAccessKeyId.NotFound": "阿里云 AccessKeyId 不存在",
    "InvalidAccessKeyId.Inactive": "阿里云 AccessKeyId 已停用",
    "InvalidTimeStamp.Expired": "请求时间戳过期,请检查服务器时钟",
    "SignatureNonceUsed": "请求随机数重复",
    "isp.SYSTEM_ERROR": "短信通道系统错误",
    "ServiceUnavailable": "短信通道暂不可用",
}
# Codes that in a batch may concern a single number: the batch is retried one message at a time
# so that the others still go and only the culprit fails.
PER_MESSAGE_CODES = {
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.DOMESTIC_NUMBER_NOT_SUPPORTED", "isv.BUSINESS_LIMIT_CONTROL",
    "isv.TEMPLATE_MISSING_PARAMETERS", "isv.INVALID_JSON_PARAM", "isv.PARAM_LENGTH_LIMIT",
    "isv.PARAM_NOT_SUPPORT_URL", "isv.INVALID_PARAMETERS", "isv.SMS_CONTENT_ILLEGAL",
    "isv.BLACK_KEY_CONTROL_LIMIT",
}


# -- signing -----------------------------------------------------------------------------------

def percent_encode(value) -> str:
    """RFC 3986 as Aliyun wants it: only A-Z a-z 0-9 - _ . ~ stay, a space is %20."""
    return quote(str(value), safe="~")


def canonical_query(params: dict) -> str:
    """The sorted, encoded parameters without Signature."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                    for k, v in sorted(params.items()) if k != "Signature")


def sign_rpc(params: dict, secret: str, method: str = "GET") -> str:
    """Aliyun's RPC signature (HMAC-SHA1, version 1.0) of these parameters."""
    string_to_sign = "&".join([method.upper(), percent_encode("/"),
                               percent_encode(canonical_query(params))])
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# -- Aliyun ------------------------------------------------------------------------------------

@dataclass
class _Answer:
    """What one API call came to: Aliyun's code, or a transport problem of ours."""

    code: str
    biz_id: str | None = None
    problem: str | None = None  # set when there is no usable answer from Aliyun
    data: dict | None = None  # the whole answer


def classify(code: str) -> str:
    """The outcome for an Aliyun answer code."""
    if code == "OK":
        return SENT
    if code in TEMPORARY_CODES:
        return TEMPORARY
    if code in PERMANENT_CODES or code.startswith("isv."):
        return PERMANENT
    return TECHNICAL


def _reason(code: str) -> str:
    label = (TEMPORARY_CODES.get(code) or PERMANENT_CODES.get(code) or TECHNICAL_CODES.get(code)
             or "短信通道拒绝发送")
    return f"{label}(阿里云 {code})"


def normalize_phone(phone: str) -> str:
    """A mainland number without the +86 / 0086 / 86 prefix Aliyun accepts."""
    return re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", phone.strip())


class AliyunProvider:
    """Aliyun Dysmsapi over its HTTP API, signed by hand; never raises for provider trouble."""

    name = "aliyun"

    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str,
                 template_codes: dict[str, str], endpoint: str = "https://dysmsapi.aliyuncs.com/",
                 timeout: float = 5.0, session: requests.Session | None = None):
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.sign_name, self.template_codes = sign_name, dict(template_codes)
        self.endpoint, self.timeout = endpoint, timeout
        self._own_session = session is None
        self._session, self._pid = session, os.getpid()

    @property
    def session(self) -> requests.Session:
        # A forked worker must not share the parent's keep-alive sockets: start its own pool.
        if self._session is None or (self._own_session and self._pid != os.getpid()):
            self._session, self._pid = requests.Session(), os.getpid()
        return self._session

    def send_batch(self, items: list[SmsItem]) -> list[SendResult]:
        """One result per item, in order: SendSms for one message, SendBatchSms for several."""
        results: list[SendResult | None] = [None] * len(items)
        for n, item in enumerate(items):
            if item.template not in self.template_codes:
                results[n] = SendResult(PERMANENT, None, f"短信模板“{item.template}”没有对应的"
                                        "阿里云模板编号(ALIYUN_SMS_TEMPLATES),未发送")
        broken: SendResult | None = None
        for chunk in self._calls(items):
            if broken:  # the channel just failed: don't queue more timeouts behind it
                chunk_results = [_not_tried(broken)] * len(chunk)
            else:
                chunk_results = self._send_chunk(self.template_codes[items[chunk[0]].template],
                                                 [items[n] for n in chunk])
                broken = next((r for r in chunk_results if r.outcome == TECHNICAL), None)
            for n, result in zip(chunk, chunk_results, strict=True):
                results[n] = result
        return results

    def _calls(self, items: list[SmsItem]) -> list[list[int]]:
        """The items each call carries: grouped by template, then chunked (see _chunks)."""
        groups: dict[str, list[int]] = {}
        for n, item in enumerate(items):
            if item.template in self.template_codes:
                groups.setdefault(item.template, []).append(n)
        return [chunk for indexes in groups.values() for chunk in _chunks(indexes, items)]

    def out_ids(self, items: list[SmsItem]) -> list[str]:
        """The OutId each item will be sent under: its own key alone, the batch's in a batch."""
        found = [item.out_id for item in items]
        for chunk in self._calls(items):
            if len(chunk) > 1:
                batch = batch_out_id([items[n] for n in chunk])
                for n in chunk:
                    found[n] = batch
        return found

    def earlier_send(self, item: SmsItem, out_ids: list[str], since: datetime) -> (
            SendResult | None):
        """Whether Aliyun already took this message under one of these OutIds since `since`.

        QuerySendDetails lists one number's messages of one Beijing day (50 a page); every day
        from today back to `since` is read. None: not there, so sending is safe. A technical
        failure: Aliyun could not be asked, so nobody knows and the message must not be sent yet.
        """
        first, day = since.astimezone(BEIJING).date(), datetime.now(BEIJING).date()
        while day >= first:
            for page in range(1, 21):
                answer = self.call("QuerySendDetails", {
                    "PhoneNumber": normalize_phone(item.phone), "SendDate": day.strftime("%Y%m%d"),
                    "PageSize": "50", "CurrentPage": str(page)})
                if answer.code != "OK" or answer.data is None:
                    cause = answer.problem or _reason(answer.code)
                    return SendResult(TECHNICAL, None, f"无法向阿里云确认上次是否已发出({cause}),"
                                                       "未重发")
                records = _details(answer.data)
                match = next((r for r in records if r.get("OutId") in out_ids), None)
                if match:
                    return _found(match)
                if len(records) < 50:
                    break
            day -= timedelta(days=1)
        return None

    def _send_chunk(self, template_code: str, items: list[SmsItem]) -> list[SendResult]:
        if len(items) == 1:
            return [self._send_one(template_code, items[0])]
        answer = self.call("SendBatchSms", {
            "PhoneNumberJson": _json([item.phone for item in items]),
            "SignNameJson": _json([self.sign_name] * len(items)),
            "TemplateCode": template_code,
            "TemplateParamJson": _json([_string_values(item.params) for item in items]),
            "OutId": batch_out_id(items),
        })
        if answer.code == "OK" and answer.biz_id:
            return [SendResult(SENT, f"{answer.biz_id}:{normalize_phone(item.phone)}")
                    for item in items]
        if answer.code in PER_MESSAGE_CODES:
            return self._send_one_by_one(template_code, items)
        return [_result(answer)] * len(items)

    def _send_one_by_one(self, template_code: str, items: list[SmsItem]) -> list[SendResult]:
        results: list[SendResult] = []
        for item in items:
            broken = next((r for r in results if r.outcome == TECHNICAL), None)
            results.append(_not_tried(broken) if broken else self._send_one(template_code, item))
        return results

    def _send_one(self, template_code: str, item: SmsItem) -> SendResult:
        answer = self.call("SendSms", {
            "PhoneNumbers": item.phone, "SignName": self.sign_name, "TemplateCode": template_code,
            "TemplateParam": _json(_string_values(item.params)), "OutId": item.out_id,
        })
        if answer.code == "OK" and answer.biz_id:
            return SendResult(SENT, answer.biz_id)
        return _result(answer)

    def call(self, action: str, params: dict) -> _Answer:
        """POST one signed RPC request; transport trouble becomes an answer, never an error."""
        payload = {**params, "Action": action, "Version": API_VERSION, "Format": "JSON",
                   "RegionId": "cn-hangzhou", "AccessKeyId": self.access_key_id,
                   "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
                   "SignatureNonce": uuid.uuid4().hex,
                   "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        payload["Signature"] = sign_rpc(payload, self.access_key_secret, "POST")
        body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in payload.items())
        try:
            response = self.session.post(
                self.endpoint, data=body.encode(), timeout=self.timeout,
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                         "Accept": "application/json"})
        except requests.Timeout:
            return _problem(action, f"阿里云 {action} 超时({self.timeout:g} 秒),短信可能已发出")
        except requests.RequestException as exc:
            return _problem(action, f"无法连接阿里云短信接口({type(exc).__name__})")
        return _parse_answer(action, response)


def _parse_answer(action: str, response: requests.Response) -> _Answer:
    try:
        data = response.json()
    except ValueError:
        data = None
    code = data.get("Code") if isinstance(data, dict) else None
    if response.status_code >= 500:
        return _problem(action, f"阿里云短信接口出错(HTTP {response.status_code}"
                                f"{', ' + code if isinstance(code, str) else ''})")
    if not isinstance(code, str) or not code:
        return _problem(action, f"阿里云短信接口的答复无法识别(HTTP {response.status_code})")
    biz_id = data.get("BizId")
    return _Answer(code, str(biz_id) if biz_id else None, data=data)


def _problem(action: str, reason: str) -> _Answer:
    log.warning("aliyun %s failed: %s", action, reason)
    return _Answer("", problem=reason)


def _result(answer: _Answer) -> SendResult:
    if answer.problem:
        return SendResult(TECHNICAL, None, answer.problem)
    if answer.code == "OK":  # OK without a BizId: nothing to match receipts against
        return SendResult(TECHNICAL, None, "阿里云答复成功但没有 BizId")
    outcome = classify(answer.code)
    if outcome == TECHNICAL:  # ours to fix (keys, clock, a bug): worth a line in the log
        log.warning("aliyun answered %s", answer.code)
    return SendResult(outcome, None, _reason(answer.code))


def _details(data: dict) -> list[dict]:
    dtos = data.get("SmsSendDetailDTOs") or {}
    records = dtos.get("SmsSendDetailDTO") if isinstance(dtos, dict) else dtos
    return [r for r in records or [] if isinstance(r, dict)]


def _found(record: dict) -> SendResult:
    """A message QuerySendDetails shows: 1 waiting for the receipt, 2 failed, 3 delivered."""
    status = str(record.get("SendStatus"))
    if status == "2":
        code = record.get("ErrCode") or "未知"
        return SendResult(PERMANENT, None, f"运营商未能送达(错误码 {code})")
    return SendResult(SENT, None, None, delivered=status == "3")


def _not_tried(cause: SendResult) -> SendResult:
    return SendResult(TECHNICAL, None, f"未发送:同批的上一次调用失败({cause.reason})")


def _chunks(indexes: list[int], items: list[SmsItem]) -> list[list[int]]:
    """Batches of at most BATCH_LIMIT, each number at most once, since receipts key on it."""
    chunks: list[tuple[list[int], set[str]]] = []
    for n in indexes:
        phone = normalize_phone(items[n].phone)
        home = next((c for c in chunks if len(c[0]) < BATCH_LIMIT and phone not in c[1]), None)
        if home is None:
            home = ([], set())
            chunks.append(home)
        home[0].append(n)
        home[1].add(phone)
    return [members for members, _ in chunks]


def batch_out_id(items: list[SmsItem]) -> str:
    """One OutId for a batch call, traceable to its messages' keys."""
    digest = hashlib.sha256("|".join(item.out_id for item in items).encode()).hexdigest()
    return BATCH_OUT_ID_PREFIX + digest[:32]


def _string_values(params: dict) -> dict[str, str]:
    # Aliyun refuses non-string template values (isv.INVALID_JSON_PARAM).
    return {str(k): str(v) for k, v in (params or {}).items()}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
