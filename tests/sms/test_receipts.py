"""The delivery-receipt endpoint: authenticated, idempotent, ignores stale updates, never a 500."""

import json

import pytest

from app.core.timeutil import utcnow
from app.extensions import db
from app.sms.models import SmsMessage, SmsStatus

TOKEN = "receipt-secret-2026"


@pytest.fixture(autouse=True)
def _token(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_RECEIPT_TOKEN", TOKEN)


@pytest.fixture
def sent():
    """A message the provider accepted and has not reported on yet."""
    message = SmsMessage(phone="13800138000", template="rating_reply", text="t", params={},
                         idempotency_key="r1", status=SmsStatus.SENDING, provider_id="900619867",
                         sent_at=utcnow(), sending_at=utcnow(), attempts=1)
    db.session.add(message)
    db.session.commit()
    return message


def report(biz_id="900619867", success=True, when="2026-11-23 15:20:30", code="DELIVERED"):
    """One entry of Aliyun's SmsReport push."""
    return {"phone_number": "13800138000", "send_time": "2026-11-23 15:20:20",
            "report_time": when, "success": success, "err_code": code,
            "err_msg": "用户接收成功" if success else "失败", "sms_size": "1", "biz_id": biz_id,
            "out_id": "r1"}


def post(client, body, token=TOKEN, **kw):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    url = "/sms/receipts" + (f"?token={token}" if token else "")
    return client.post(url, data=data, content_type="application/json", csrf=False, **kw)


def test_receipt_moves_a_sent_message_to_delivered(client, sent):
    response = post(client, [report()])
    assert response.status_code == 200
    assert response.json == {"code": 0, "msg": "成功", "applied": 1, "ignored": 0}
    message = db.session.get(SmsMessage, sent.id)
    assert message.status == SmsStatus.DELIVERED and message.delivered_at is not None


def test_token_may_come_in_a_header(client, sent):
    response = post(client, [report()], token=None, headers={"X-Receipt-Token": TOKEN})
    assert response.status_code == 200


def test_the_same_receipt_twice_is_harmless(client, sent):
    post(client, [report()])
    again = post(client, [report()])
    assert again.status_code == 200 and again.json["ignored"] == 1
    assert db.session.get(SmsMessage, sent.id).status == SmsStatus.DELIVERED


def test_a_failure_receipt_is_a_permanent_failure_with_its_code(client, sent):
    post(client, [report(success=False, code="MK:0001")])
    message = db.session.get(SmsMessage, sent.id)
    assert message.status == SmsStatus.PERMANENT_FAILURE
    assert message.error_code == "MK:0001" and "MK:0001" in message.reason


def test_a_stale_receipt_changes_nothing(client, sent):
    post(client, [report(success=False, when="2026-11-23 15:20:30", code="MK:0001")])
    late = post(client, [report(success=True, when="2026-11-23 15:20:25")])
    assert late.json["ignored"] == 1
    assert db.session.get(SmsMessage, sent.id).status == SmsStatus.PERMANENT_FAILURE


def test_receipt_for_an_earlier_round_is_ignored(client, sent):
    """After a staff resend the message has a new provider id; the old one's receipt is stale."""
    sent.provider_id = "900700000"
    db.session.commit()
    response = post(client, [report(biz_id="900619867", success=False, code="MK:0001")])
    assert response.json == {"code": 0, "msg": "成功", "applied": 0, "ignored": 1}
    assert db.session.get(SmsMessage, sent.id).status == SmsStatus.SENDING


def test_unknown_message_is_acknowledged_and_ignored(client, sent):
    response = post(client, [report(biz_id="123"), report()])
    assert response.json["applied"] == 1 and response.json["ignored"] == 1


@pytest.mark.parametrize("token", [None, "wrong-token", TOKEN[:-1]])
def test_forged_receipt_is_403_with_a_reason(client, sent, token):
    response = post(client, [report()], token=token)
    assert response.status_code == 403 and response.json["code"] == 1
    assert "token" in response.json["msg"]
    assert db.session.get(SmsMessage, sent.id).status == SmsStatus.SENDING


def test_receipts_are_refused_when_no_secret_is_configured(app, client, sent, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_RECEIPT_TOKEN", None)
    response = post(client, [report()], token="")
    assert response.status_code == 403 and "SMS_RECEIPT_TOKEN" in response.json["msg"]


@pytest.mark.parametrize("body", ["not json", "{", json.dumps({"biz_id": 1}),
                                  json.dumps([{"success": True}]), b"\xff\xfe", ""])
def test_malformed_receipt_is_400_with_a_reason(client, sent, body):
    response = post(client, body)
    assert response.status_code == 400 and response.json["code"] == 1
    assert response.json["msg"].startswith("malformed receipt body")
    assert db.session.get(SmsMessage, sent.id).status == SmsStatus.SENDING
