"""A code that could not be sent within its lifetime is never sent late; the person is told why."""

from datetime import datetime, timedelta

import pytest
from flask import g
from sqlalchemy import select

from app import jobs
from app.auth import services as auth_services
from app.extensions import db, limiter
from app.sms import sending, services
from app.sms.models import SmsMessage, SmsStatus
from app.sms.providers.base import SendResult

START = datetime(2026, 3, 10, 2, 0)  # 10:00 in Shanghai, a Tuesday


class Provider:
    name = "scripted"

    def __init__(self, outcome: str = "sent"):
        self.outcome, self.sent = outcome, []

    def send_batch(self, items):
        self.sent.extend(items)
        return [SendResult(self.outcome, "biz-1" if self.outcome == "sent" else None, "通道忙")
                for _ in items]


@pytest.fixture
def clock(monkeypatch):
    """One moved clock for the codes, the messages and the outbox."""
    now = [START]
    for module in (services, sending, jobs, auth_services):
        monkeypatch.setattr(module, "utcnow", lambda: now[0])
    return now


@pytest.fixture
def provider(monkeypatch):
    def install(outcome: str = "sent") -> Provider:
        fake = Provider(outcome)
        monkeypatch.setattr(sending, "provider", lambda: fake)
        return fake

    return install


def _message(phone: str) -> SmsMessage:
    return db.session.scalar(select(SmsMessage).where(SmsMessage.phone == phone)
                             .order_by(SmsMessage.id.desc()))


def _held_up() -> None:
    """The job stays in the outbox (as behind a long queue) instead of running after the commit."""
    g.pop("outbox_ready", None)


def test_a_code_held_up_past_its_lifetime_is_not_sent(app, monkeypatch, clock, provider):
    fake = provider()
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    auth_services.issue_code("13800138001")
    _held_up()
    clock[0] = START + timedelta(seconds=app.config["SMS_CODE_TTL_SECONDS"] + 1)
    jobs.sweep()
    message = _message("13800138001")
    assert message.status == SmsStatus.PERMANENT_FAILURE and "过期" in message.reason
    assert fake.sent == []
    with pytest.raises(auth_services.AuthError, match="未能及时发出"):
        auth_services.check_code("13800138001", message.params["code"])


def test_a_code_in_time_is_sent(app, monkeypatch, clock, provider):
    fake = provider()
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    auth_services.issue_code("13800138002")
    _held_up()
    clock[0] = START + timedelta(seconds=app.config["SMS_CODE_TTL_SECONDS"] - 1)
    jobs.sweep()
    assert _message("13800138002").sent_at is not None and len(fake.sent) == 1


def test_no_retry_is_planned_past_a_codes_lifetime(app, monkeypatch, clock, provider):
    provider("temporary_failure")
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", [60])
    services.queue_sms("13800138003", "login_code", {"code": "123456"}, key="short",
                       expires_at=START + timedelta(seconds=30))
    db.session.commit()
    jobs.flush()
    message = _message("13800138003")
    assert message.status == SmsStatus.TEMPORARY_FAILURE and message.next_retry_at is None
    assert "不再重试" in message.reason


def test_the_person_is_told_to_ask_for_a_new_code(app, client, monkeypatch, clock, provider):
    """The provider keeps failing: the retries at 10 s and 60 s fail too, the next one would come
    after the code's 5 minutes, so none is planned and the code page says so."""
    provider("technical_failure")
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    assert client.post("/login/code", data={"phone": "13800138004"}).status_code == 303
    for seconds in (11, 71):
        clock[0] = START + timedelta(seconds=seconds)
        jobs.sweep()
    assert _message("13800138004").next_retry_at is None
    page = client.get("/login/verify").get_data(as_text=True)
    assert "验证码短信未能及时发出" in page and "重新发送" in page
    fake = provider()  # the provider is back
    clock[0] += timedelta(minutes=2)
    limiter.reset()  # the limiter keeps real time: this is past its one-a-minute limit
    assert client.post("/login/code", data={"phone": "13800138004"}).status_code == 303
    assert [item.params["code"] for item in fake.sent] == [_message("13800138004").params["code"]]
    assert "未能及时发出" not in client.get("/login/verify").get_data(as_text=True)
