"""Creating messages in the caller's transaction, and the send logic the job runs."""

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app import jobs
from app.core.timeutil import to_local, utcnow
from app.extensions import db
from app.sms.models import SmsMessage, SmsStatus
from app.sms.templates import TEMPLATES, render

RETRYABLE = {SmsStatus.QUEUED, SmsStatus.TEMPORARY_FAILURE, SmsStatus.TECHNICAL_FAILURE}


def queue_sms(phone: str, template: str, params: dict, key: str) -> SmsMessage:
    """Add a message and its sending job to the current transaction; one per idempotency key."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    existing = db.session.scalar(select(SmsMessage).where(SmsMessage.idempotency_key == digest))
    if existing:
        return existing
    spec = TEMPLATES[template]
    message = SmsMessage(phone=phone, template=template, params=params, urgent=spec.urgent,
                         text=render(template, params), idempotency_key=digest)
    db.session.add(message)
    db.session.flush()
    jobs.enqueue("sms.send", message.id, run_at=None if spec.urgent else quiet_until(utcnow()))
    return message


def quiet_until(now: datetime) -> datetime | None:
    """The UTC time quiet hours end, or None outside them."""
    start, end = (int(h) for h in current_app.config["QUIET_HOURS"].split("-"))
    local = to_local(now)
    if start <= local.hour or local.hour < end:
        day = local.date() + timedelta(days=1 if local.hour >= start else 0)
        wake = local.replace(year=day.year, month=day.month, day=day.day, hour=end, minute=0,
                             second=0, microsecond=0)
        return now + (wake - local)
    return None


_provider = None


def provider():
    """The configured provider, built once per process."""
    global _provider
    from app.sms.providers import make_provider

    if _provider is None or _provider.name != current_app.config["SMS_BACKEND"]:
        _provider = make_provider(current_app.config)
    return _provider


class SmsTemporaryError(RuntimeError):
    """The provider asked us to try again later."""


def send(message_id: int) -> str:
    """Send one message unless it already went; raise on a failure worth retrying."""
    message = db.session.get(SmsMessage, message_id, with_for_update=True)
    if message is None or message.status not in RETRYABLE:
        db.session.rollback()
        return message.status if message else "missing"
    wake = None if message.urgent else quiet_until(utcnow())
    if wake:
        db.session.rollback()
        jobs.enqueue("sms.send", message_id, run_at=wake)
        db.session.commit()
        return "deferred"
    message.status, message.attempts = SmsStatus.SENDING, message.attempts + 1
    db.session.commit()
    from app.sms.providers import SmsItem

    item = SmsItem(phone=message.phone, template=message.template, params=message.params,
                   text=message.text, out_id=message.idempotency_key)
    result = provider().send_batch([item])[0]
    return record_result(message, result)


def record_result(message: SmsMessage, result) -> str:
    """Move a message by the provider's answer; raise to retry the temporary kinds."""
    message.reason = result.reason
    if result.outcome == "sent":
        message.provider_id, message.sent_at = result.provider_id, utcnow()
        if current_app.config["SMS_BACKEND"] == "console":
            message.status, message.delivered_at = SmsStatus.DELIVERED, utcnow()
    elif result.outcome == "permanent_failure":
        message.status = SmsStatus.PERMANENT_FAILURE
    else:
        message.status = (SmsStatus.TEMPORARY_FAILURE if result.outcome == "temporary_failure"
                          else SmsStatus.TECHNICAL_FAILURE)
        db.session.commit()
        raise SmsTemporaryError(result.reason or result.outcome)
    db.session.commit()
    return message.status
