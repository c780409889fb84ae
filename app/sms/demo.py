"""Demo messages, one in each state, so the admin's message page has something to show."""

from datetime import timedelta

from app.core.models import audit
from app.core.timeutil import utcnow
from app.extensions import db
from app.sms.models import SmsMessage, SmsStatus
from app.sms.templates import render

LINK = "https://zwfw.example.cn/t/demo0000001"
# (phone, template, status, steps back in minutes, reason, error code)
DEMO = [
    ("13800138000", "rating_reply", SmsStatus.DELIVERED, 95, None, "DELIVERED"),
    ("13900139001", "rating_reply", SmsStatus.SENDING, 12, None, None),
    ("13700137002", "rating_reply", SmsStatus.PERMANENT_FAILURE, 300,
     "运营商未能送达(错误码 MK:0001)", "MK:0001"),
    ("13600136003", "rating_reply", SmsStatus.TECHNICAL_FAILURE, 3,
     "短信通道无响应(超时)(将自动重试,第 1 次)", None),
]


def load_demo() -> None:
    """Add the demo messages once."""
    if db.session.query(SmsMessage).filter(SmsMessage.idempotency_key.like("demo-%")).count():
        return
    now = utcnow()
    for n, (phone, template, status, minutes, reason, code) in enumerate(DEMO):
        created = now - timedelta(minutes=minutes)
        message = SmsMessage(phone=phone, template=template, params={"link": LINK},
                             text=render(template, {"link": LINK}), idempotency_key=f"demo-{n}",
                             status=status, reason=reason, error_code=code, attempts=1,
                             created_at=created, sending_at=created + timedelta(seconds=1))
        if status in (SmsStatus.DELIVERED, SmsStatus.SENDING, SmsStatus.PERMANENT_FAILURE):
            message.sent_at, message.provider_id = created + timedelta(seconds=2), f"90061{n:04d}"
        if status == SmsStatus.DELIVERED:
            message.delivered_at = created + timedelta(seconds=9)
        if status == SmsStatus.TECHNICAL_FAILURE:
            message.next_retry_at = now + timedelta(minutes=5)
        db.session.add(message)
        db.session.flush()
        audit("sms_message", message.id, SmsStatus.QUEUED.value, note=template).created_at = created
        if status != SmsStatus.QUEUED:
            audit("sms_message", message.id, SmsStatus.SENDING.value,
                  from_status=SmsStatus.QUEUED.value).created_at = created + timedelta(seconds=1)
        if status not in (SmsStatus.QUEUED, SmsStatus.SENDING):
            audit("sms_message", message.id, status.value, from_status=SmsStatus.SENDING.value,
                  note=reason or "delivery receipt").created_at = created + timedelta(seconds=9)
