"""The SMS providers: Aliyun's signature, every answer's outcome against the fake, receipts."""

import json
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from fakes.aliyun_sms import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    SIGN_NAME,
    FakeAliyun,
    provider_settings,
    sent_count,
    template_code,
)

from app.sms.providers import aliyun as aliyun_module
from app.sms.providers import make_provider
from app.sms.providers.aliyun import AliyunProvider, canonical_query, percent_encode, sign_rpc
from app.sms.providers.aliyun_receipts import parse_receipts
from app.sms.providers.base import SmsItem
from app.sms.providers.console import ConsoleProvider

CODES = {"login_code": template_code("login_code"), "rating_reply": template_code("rating_reply")}


@pytest.fixture(scope="module")
def server():
    with FakeAliyun() as fake:
        yield fake


@pytest.fixture
def fake(server):
    server.reset()
    return server


@pytest.fixture
def aliyun(fake):
    # A timeout no busy machine reaches: the tests of timeouts hold the fake's answer instead.
    return AliyunProvider(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME, CODES, endpoint=fake.url,
                          timeout=30.0)


def item(phone="13800138000", template="login_code", n=0, **params):
    return SmsItem(phone=phone, template=template, params=params or {"code": "123456"},
                   text="【掌上办】验证码123456,5分钟内有效", out_id=f"key-{template}-{phone}-{n}")


def common(**extra):
    """Signed-request parameters, for calling the fake by hand."""
    return {"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON",
            "AccessKeyId": ACCESS_KEY_ID, "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PhoneNumbers": "13800138000", "SignName": SIGN_NAME,
            "TemplateCode": CODES["login_code"], "TemplateParam": '{"code":"123456"}', **extra}


def get(fake, params, secret=ACCESS_KEY_SECRET):
    params = {**params, "Signature": sign_rpc(params, secret, "GET")}
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())
    return requests.get(f"{fake.url}?{query}", timeout=5)


# -- signing -----------------------------------------------------------------------------------

def test_signature_matches_the_example_in_aliyuns_documentation():
    """The RPC signature example: DescribeRegions with key testid / testsecret."""
    params = {"TimeStamp": "2016-02-23T12:46:24Z", "Format": "XML", "AccessKeyId": "testid",
              "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
              "Version": "2014-05-26", "SignatureVersion": "1.0"}
    assert canonical_query(params).startswith("AccessKeyId=testid&Action=DescribeRegions&")
    assert "TimeStamp=2016-02-23T12%3A46%3A24Z" in canonical_query(params)
    assert sign_rpc(params, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="
    assert sign_rpc({**params, "Signature": "ignored"}, "testsecret") == sign_rpc(
        params, "testsecret")
    assert sign_rpc(params, "testsecret", "POST") != sign_rpc(params, "testsecret")


@pytest.mark.parametrize(("raw", "encoded"), [
    ("a b", "a%20b"), ("*", "%2A"), ("~-_.", "~-_."), ("/", "%2F"), ("+", "%2B"),
    ("掌", "%E6%8E%8C"), ('{"code":"1"}', "%7B%22code%22%3A%221%22%7D")])
def test_percent_encoding_follows_aliyuns_rules(raw, encoded):
    assert percent_encode(raw) == encoded


def test_fake_accepts_a_signed_get_and_refuses_a_wrong_secret(fake):
    assert get(fake, common()).json()["Code"] == "OK"
    wrong = get(fake, common(), secret="not-the-secret")
    assert wrong.status_code == 400 and wrong.json()["Code"] == "SignatureDoesNotMatch"
    assert len(fake.sent) == 1


def test_fake_refuses_a_replayed_nonce_and_a_stale_timestamp(fake):
    params = common()
    assert get(fake, params).status_code == 200
    replay = get(fake, params)
    assert replay.status_code == 400 and replay.json()["Code"] == "SignatureNonceUsed"
    stale = (datetime.now(UTC) - timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = get(fake, common(Timestamp=stale))
    assert old.status_code == 400 and old.json()["Code"] == "InvalidTimeStamp.Expired"
    missing = get(fake, {k: v for k, v in common().items() if k != "SignatureNonce"})
    assert missing.status_code == 400 and missing.json()["Code"] == "MissingSignatureNonce"
    assert len(fake.sent) == 1


# -- outcomes ----------------------------------------------------------------------------------

def test_one_message_goes_by_sendsms_with_its_key_as_outid(fake, aliyun):
    [result] = aliyun.send_batch([item(code=123456)])  # a number becomes the string Aliyun wants
    assert result.outcome == "sent" and result.reason is None
    [sent] = fake.sent
    assert sent["action"] == "SendSms" and result.provider_id == sent["biz_id"]
    assert sent["out_id"] == "key-login_code-13800138000-0"
    assert sent["params"] == {"code": "123456"} and sent["sign_name"] == SIGN_NAME
    assert sent["template_code"] == CODES["login_code"]


@pytest.mark.parametrize(("script", "outcome", "code"), [
    ("throttle", "temporary_failure", "isv.BUSINESS_LIMIT_CONTROL"),
    ("throttle_api", "temporary_failure", "Throttling.User"),
    ("isv.DAY_LIMIT_CONTROL", "temporary_failure", "isv.DAY_LIMIT_CONTROL"),
    ("amount", "permanent_failure", "isv.AMOUNT_NOT_ENOUGH"),
    ("isv.SMS_SIGNATURE_ILLEGAL", "permanent_failure", "isv.SMS_SIGNATURE_ILLEGAL"),
    ("isv.SOMETHING_NEW", "permanent_failure", "isv.SOMETHING_NEW"),
    ("isp.SYSTEM_ERROR", "technical_failure", "isp.SYSTEM_ERROR"),
    ("error500", "technical_failure", "HTTP 500"),
    ("error503", "technical_failure", "HTTP 503"),
    ("garbage", "technical_failure", "无法识别"),
])
def test_each_answer_has_its_outcome_and_a_reason_naming_it(fake, aliyun, script, outcome, code):
    fake.script(script)
    [result] = aliyun.send_batch([item()])
    assert result.outcome == outcome and code in result.reason
    assert result.provider_id is None and fake.sent == []


@pytest.mark.parametrize(("setup", "phone", "code"), [
    (lambda fake: None, "12345678901", "isv.MOBILE_NUMBER_ILLEGAL"),
    (lambda fake: setattr(fake, "templates", {}), "13800138000", "isv.SMS_TEMPLATE_ILLEGAL"),
    (lambda fake: setattr(fake, "templates", {CODES["login_code"]: {"code", "minutes"}}),
     "13800138000", "isv.TEMPLATE_MISSING_PARAMETERS"),
    (lambda fake: setattr(fake, "sign_names", {"别的签名"}), "13800138000",
     "isv.SMS_SIGNATURE_ILLEGAL"),
])
def test_the_fakes_own_refusals_are_permanent(fake, aliyun, setup, phone, code):
    setup(fake)
    [result] = aliyun.send_batch([item(phone=phone)])
    assert result.outcome == "permanent_failure" and code in result.reason


@pytest.mark.parametrize(("key_id", "secret", "code"), [
    (ACCESS_KEY_ID, "wrong-secret", "SignatureDoesNotMatch"),
    ("LTAI-unknown", ACCESS_KEY_SECRET, "InvalidAccessKeyId.NotFound"),
])
def test_auth_errors_are_technical_and_leak_nothing(fake, key_id, secret, code):
    provider = AliyunProvider(key_id, secret, SIGN_NAME, CODES, endpoint=fake.url)
    [result] = provider.send_batch([item()])
    assert result.outcome == "technical_failure" and code in result.reason
    assert "13800138000" not in result.reason and "123456" not in result.reason


def test_per_phone_throttling_like_the_real_one(fake, aliyun):
    fake.throttle_per_minute = 1
    first = aliyun.send_batch([item(n=1)])
    second = aliyun.send_batch([item(n=2)])
    other = aliyun.send_batch([item(phone="13900139000")])
    assert [r.outcome for r in first + second + other] == [
        "sent", "temporary_failure", "sent"]
    assert [s["phone"] for s in fake.sent] == ["13800138000", "13900139000"]


def test_a_timeout_is_technical_and_says_the_message_may_have_gone(fake):
    fake.script("slow")  # held by the fake until released, so the client gives up first
    provider = AliyunProvider(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME, CODES,
                              endpoint=fake.url, timeout=0.2)
    [result] = provider.send_batch([item()])
    assert result.outcome == "technical_failure" and "超时" in result.reason
    assert "可能已发出" in result.reason
    fake.wait_held()
    fake.release()
    fake.settle()
    assert [s["phone"] for s in fake.sent] == ["13800138000"]  # it went after all


def test_a_held_answer_never_lands_in_the_next_test(fake, server):
    fake.script("slow")
    provider = AliyunProvider(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME, CODES,
                              endpoint=fake.url, timeout=0.2)
    provider.send_batch([item()])
    fake.wait_held()
    server.reset()  # what the next test's fixture does: the held call finishes first
    assert server.sent == [] and server.calls == []


def test_nobody_listening_is_technical():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the call: connection refused
    provider = AliyunProvider(ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME, CODES,
                              endpoint=f"http://127.0.0.1:{port}/", timeout=1)
    results = provider.send_batch([item(), item(phone="13900139000", template="rating_reply")])
    assert [r.outcome for r in results] == ["technical_failure"] * 2
    assert "无法连接" in results[0].reason and "未发送" in results[1].reason


def test_a_forked_worker_opens_its_own_connections(aliyun, monkeypatch):
    first = aliyun.session
    assert aliyun.session is first  # keep-alive within a process
    monkeypatch.setattr(aliyun_module.os, "getpid", lambda: -1)
    assert aliyun.session is not first


def test_an_unknown_template_fails_without_calling_aliyun(fake, aliyun):
    [result] = aliyun.send_batch([item(template="no_such_template")])
    assert result.outcome == "permanent_failure" and "no_such_template" in result.reason
    assert fake.calls == []


# -- batches -----------------------------------------------------------------------------------

def test_a_batch_goes_in_one_call_and_each_message_gets_its_own_id(fake, aliyun):
    items = [item(phone=f"1380013800{n}", n=n, code=f"00000{n}") for n in range(3)]
    results = aliyun.send_batch(items)
    assert [c["action"] for c in fake.calls] == ["SendBatchSms"]
    assert all(r.outcome == "sent" for r in results)
    assert len({r.provider_id for r in results}) == 3
    assert {s["biz_id"] for s in fake.sent} == {results[0].provider_id.split(":")[0]}
    assert [s["params"]["code"] for s in fake.sent] == ["000000", "000001", "000002"]
    receipts = parse_receipts(fake.receipts())
    assert sorted(r.provider_id for r in receipts) == sorted(r.provider_id for r in results)


def test_batches_are_chunked_at_100_numbers(fake, aliyun):
    items = [item(phone=f"139{n:08d}", template="rating_reply", n=n, link="https://t.cn/x")
             for n in range(250)]
    results = aliyun.send_batch(items)
    assert [(c["action"], c["count"]) for c in fake.calls] == [
        ("SendBatchSms", 100), ("SendBatchSms", 100), ("SendBatchSms", 50)]
    assert all(r.outcome == "sent" for r in results)
    assert len({r.provider_id for r in results}) == 250
    assert sorted(s["phone"] for s in fake.sent) == sorted(i.phone for i in items)
    assert sent_count(fake.url) == 250


def test_a_number_appears_once_per_call_because_receipts_key_on_it(fake, aliyun):
    items = [item(n=1), item(n=2), item(phone="13900139000")]
    results = aliyun.send_batch(items)
    assert [(c["action"], c["count"]) for c in fake.calls] == [
        ("SendBatchSms", 2), ("SendSms", 1)]
    assert len({r.provider_id for r in results}) == 3


def test_one_bad_number_in_a_batch_fails_alone(fake, aliyun):
    items = [item(phone="13800138000"), item(phone="10086"), item(phone="13900139000")]
    results = aliyun.send_batch(items)
    assert [r.outcome for r in results] == ["sent", "permanent_failure", "sent"]
    assert [s["phone"] for s in fake.sent] == ["13800138000", "13900139000"]
    assert [c["action"] for c in fake.calls] == ["SendBatchSms"] + ["SendSms"] * 3


def test_mixed_templates_keep_their_order(fake, aliyun):
    items = [item(template="rating_reply", link="a"), item(),
             item(template="nope"), item(phone="13900139000", template="rating_reply", link="b")]
    results = aliyun.send_batch(items)
    assert [r.outcome for r in results] == ["sent", "sent", "permanent_failure", "sent"]
    assert results[0].provider_id.endswith(":13800138000") and ":" not in results[1].provider_id


def test_after_a_technical_failure_no_further_calls_are_made(fake, aliyun):
    fake.script("error500")
    results = aliyun.send_batch([item(), item(phone="13900139000", template="rating_reply")])
    assert [r.outcome for r in results] == ["technical_failure"] * 2
    assert len(fake.calls) == 1 and "未发送" in results[1].reason


# -- asking before a retry ------------------------------------------------------------------------

def test_out_ids_name_each_call_as_send_batch_makes_it(fake, aliyun):
    items = [item(n=1), item(phone="13900139000"), item(n=2), item(template="rating_reply",
                                                                   link="x"), item(template="nope")]
    out_ids = aliyun.out_ids(items)
    aliyun.send_batch(items)
    assert out_ids[0] == out_ids[1] and out_ids[0].startswith("batch-")  # one batch call
    assert out_ids[2:] == [items[2].out_id, items[3].out_id, items[4].out_id]  # each alone
    assert sorted({s["out_id"] for s in fake.sent}) == sorted(set(out_ids[:4]))


def test_earlier_send_finds_a_message_by_its_calls_out_id(fake, aliyun):
    since = datetime.now(UTC) - timedelta(days=1)
    batch = [item(), item(phone="13900139000")]
    aliyun.send_batch(batch)
    out_id = aliyun.out_ids(batch)[0]
    assert aliyun.earlier_send(batch[1], [batch[1].out_id, out_id], since).outcome == "sent"
    assert aliyun.earlier_send(batch[1], [batch[1].out_id], since) is None  # not under its key
    assert aliyun.earlier_send(item(phone="13700137000"), [out_id], since) is None
    fake.delivered("13900139000")
    found = aliyun.earlier_send(batch[1], [out_id], since)
    assert found.outcome == "sent" and found.delivered
    fake.delivered("13800138000", success=False, err_code="MK:0001")
    failed = aliyun.earlier_send(batch[0], [out_id], since)
    assert failed.outcome == "permanent_failure" and "MK:0001" in failed.reason


def test_earlier_send_reads_every_page_of_a_busy_number(fake, aliyun):
    since = datetime.now(UTC)
    first = item(n=0)
    aliyun.send_batch([first] + [item(n=n) for n in range(1, 60)])  # 60 calls, one number
    assert len(fake.sent) == 60
    assert aliyun.earlier_send(first, [first.out_id], since).outcome == "sent"
    assert [c["action"] for c in fake.calls].count("QuerySendDetails") == 2


def test_earlier_send_that_cannot_ask_says_so(fake, aliyun):
    fake.script("error503")
    found = aliyun.earlier_send(item(), ["k"], datetime.now(UTC))
    assert found.outcome == "technical_failure" and "无法向阿里云确认" in found.reason


# -- receipts ----------------------------------------------------------------------------------

def report(**overrides):
    entry = {"phone_number": "13800138000", "send_time": "2026-11-23 15:20:20",
             "report_time": "2026-11-23 15:20:30", "success": True, "err_code": "DELIVERED",
             "err_msg": "用户接收成功", "sms_size": "1", "biz_id": "900619867^0",
             "out_id": "key-1"}
    return {**entry, **overrides}


def test_receipts_parse_with_beijing_times():
    ok, failed = parse_receipts(json.dumps([
        report(), report(success=False, err_code="MK:0001", biz_id=900619868)]).encode())
    assert (ok.provider_id, ok.out_id, ok.delivered, ok.error_code) == (
        "900619867^0", "key-1", True, None)
    assert ok.reported_at == datetime(2026, 11, 23, 7, 20, 30, tzinfo=UTC)
    assert (failed.provider_id, failed.delivered, failed.error_code) == (
        "900619868", False, "MK:0001")
    assert parse_receipts(b"[]") == []


def test_a_batch_receipt_names_the_number_like_the_send_result(fake, aliyun):
    results = aliyun.send_batch([item(), item(phone="13900139000")])
    receipts = parse_receipts(fake.receipts([results[1].provider_id], success=False))
    assert [(r.provider_id, r.delivered, r.error_code) for r in receipts] == [
        (results[1].provider_id, False, "MK:0001")]


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "not JSON"), (b"", "not JSON"), (b"\xff\xfe", "UTF-8"),
    (b'{"biz_id": "1"}', "array"), (b"[1]", "not an object"),
    (json.dumps([report(biz_id=None)]).encode(), "biz_id is missing"),
    (json.dumps([{"success": True}]).encode(), "biz_id is missing"),
    (json.dumps([report(success="maybe")]).encode(), "success"),
    (json.dumps([report(report_time="yesterday")]).encode(), "report_time"),
    (json.dumps([report(report_time=None)]).encode(), "report_time is missing"),
    (json.dumps([report(out_id="batch-1", phone_number="")]).encode(), "phone_number"),
])
def test_malformed_receipts_raise_a_readable_value_error(body, message):
    with pytest.raises(ValueError, match=message):
        parse_receipts(body)


# -- console and configuration -----------------------------------------------------------------

def test_console_prints_the_text_with_the_phone_masked(capsys):
    results = ConsoleProvider().send_batch([item(phone="13812340000")])
    out = capsys.readouterr().out
    assert out == "[短信] 138****0000 ← 【掌上办】验证码123456,5分钟内有效\n"
    assert "13812340000" not in out
    assert results[0].outcome == "sent"
    assert results[0].provider_id == "console-key-login_code-13812340000-0"


def test_make_provider_builds_each_backend(fake):
    assert make_provider({"SMS_BACKEND": "console"}).name == "console"
    config = {"SMS_BACKEND": "aliyun", "ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
              "ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET, **provider_settings(fake.url)}
    provider = make_provider(config)
    assert provider.name == "aliyun" and provider.endpoint == fake.url
    assert provider.send_batch([item()])[0].outcome == "sent"
    as_dict = make_provider({**config, "ALIYUN_SMS_TEMPLATES": {"login_code": "SMS_1"}})
    assert as_dict.template_codes == {"login_code": "SMS_1"}


@pytest.mark.parametrize(("config", "message"), [
    ({"SMS_BACKEND": "carrier-pigeon"}, "SMS_BACKEND"),
    ({"SMS_BACKEND": "aliyun", "ALIYUN_ACCESS_KEY_ID": "x"},
     "ALIYUN_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME, ALIYUN_SMS_TEMPLATES"),
    ({"SMS_BACKEND": "aliyun", "ALIYUN_ACCESS_KEY_ID": "x", "ALIYUN_ACCESS_KEY_SECRET": "y",
      "ALIYUN_SMS_SIGN_NAME": "z", "ALIYUN_SMS_TEMPLATES": "{not json"}, "not JSON"),
    ({"SMS_BACKEND": "aliyun", "ALIYUN_ACCESS_KEY_ID": "x", "ALIYUN_ACCESS_KEY_SECRET": "y",
      "ALIYUN_SMS_SIGN_NAME": "z", "ALIYUN_SMS_TEMPLATES": '["SMS_1"]'}, "must map"),
])
def test_make_provider_explains_bad_settings(config, message):
    with pytest.raises(ValueError, match=message):
        make_provider(config)
