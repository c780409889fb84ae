"""SMS messages: created in the caller's transaction, one per idempotency key, and the staff's
resends and figures. The `sms.send` job's logic is in sending.py, delivery receipts in receipts.py.

Idempotency: a message is created once per idempotency key, and only a job that moves it from
queued (or a due retry) to sending under a row lock may hand it to the provider (sending.py). A
staff resend is a new round on the same row: it goes back to queued (new attempt, new provider
id) and the same rules apply to the job it enqueues.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, select

from app import jobs
from app.core.models import AuditLog, audit
from app.core.refusals import Refusal
from app.core.states import machine, move
from app.core.timeutil import local_day_bounds, to_local, utcnow
from app.extensions import db
from app.sms.models import SmsMessage, SmsStatus
from app.sms.states import ALLOWED, FAILED
from app.sms.templates import TEMPLATES, render

log = logging.getLogger(__name__)

RETRYABLE = {SmsStatus.QUEUED, SmsStatus.TEMPORARY_FAILURE, SmsStatus.TECHNICAL_FAILURE}
ENTITY = "sms_message"


class SmsError(Refusal):
    """A refused staff action, with a message for the page."""


MESSAGES = machine(SmsMessage, entity=ENTITY, allowed=ALLOWED,
                   refused=lambda message, current, to: SmsError(
                       f"短信 #{message.id} 不能从“{current.value}”变为“{to.value}”"))


def queue_sms(phone: str, template: str, params: dict, key: str,
              expires_at: datetime | None = None) -> SmsMessage:
    """Add a message and its sending job to the current transaction; one per idempotency key.

    A message with expires_at (a code) is never sent after it: it fails as expired instead.
    """
    digest = _digest(key)
    existing = find(key)
    if existing:
        return existing
    spec = TEMPLATES.get(template)
    problem, text = None, ""
    if spec is None:
        problem = f"未知的短信模板“{template}”,未发送"
    else:
        try:
            text = render(template, params)
        except (KeyError, IndexError, ValueError) as exc:
            problem = f"短信模板“{template}”缺少参数 {exc},未发送"
    if problem:
        # Never break the citizen's action over a bad template: keep a visible failed record.
        log.error("sms not queued: %s", problem)
        message = SmsMessage(phone=phone, template=template, params=params, text=text,
                             idempotency_key=digest, status=SmsStatus.PERMANENT_FAILURE,
                             reason=problem)
        db.session.add(message)
        db.session.flush()
        audit(ENTITY, message.id, SmsStatus.PERMANENT_FAILURE.value, note=problem)
        return message
    wake = None if spec.urgent else quiet_until(utcnow())
    message = SmsMessage(phone=phone, template=template, params=params, urgent=spec.urgent,
                         text=text, idempotency_key=digest, send_after=wake, expires_at=expires_at)
    db.session.add(message)
    db.session.flush()
    audit(ENTITY, message.id, SmsStatus.QUEUED.value, note=template)
    message.send_job_id = jobs.enqueue("sms.send", message.id, run_at=wake).id
    return message


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def find(key: str) -> SmsMessage | None:
    """The message queued under this idempotency key, if any."""
    return db.session.scalar(select(SmsMessage).where(SmsMessage.idempotency_key == _digest(key)))


def will_not_arrive(message: SmsMessage | None) -> bool:
    """Whether a message has failed for good (no retry left), so its reader should ask again."""
    return message is not None and message.status in FAILED and message.next_retry_at is None


def quiet_until(now: datetime) -> datetime | None:
    """The UTC time quiet hours end, or None outside them."""
    start, end = (int(h) for h in current_app.config["QUIET_HOURS"].split("-"))
    if start == end:
        return None
    local = to_local(now)
    inside = (start <= local.hour or local.hour < end) if start > end else (
        start <= local.hour < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1 if start > end and local.hour >= start else 0)
    wake = local.replace(year=day.year, month=day.month, day=day.day, hour=end, minute=0,
                         second=0, microsecond=0)
    return now + (wake - local)


def resend(message_id: int, actor_id: int) -> SmsMessage:
    """Start a new round for a failed message; its job follows the same idempotency rules."""
    message = db.session.get(SmsMessage, message_id, with_for_update=True)
    if message is None:
        db.session.rollback()
        raise LookupError(message_id)
    problem = _resend_problem(message)
    if problem:
        db.session.rollback()
        raise SmsError(problem)
    now = utcnow()
    wake = None if message.urgent else quiet_until(now)
    message.resends, message.retries, message.attempts = message.resends + 1, 0, 0
    message.provider_id = message.sent_at = message.sending_at = message.next_retry_at = None
    message.claim_job_id = message.batch_out_id = None
    message.error_code = message.receipt_at = message.reason = None
    message.send_after = wake
    move(message, SmsStatus.QUEUED, actor_id=actor_id, note="管理员重发")
    message.send_job_id = jobs.enqueue("sms.send", message.id, run_at=wake).id
    db.session.commit()
    return message


def _resend_problem(message: SmsMessage) -> str | None:
    if message.status not in FAILED:
        return "只有发送失败的短信可以重发,这条短信" + (
            "已在发送队列中" if message.status == SmsStatus.QUEUED else "不需要重发")
    if message.template not in TEMPLATES:
        return "这条短信的模板已不存在,无法重发"
    ttl = timedelta(seconds=current_app.config["SMS_CODE_TTL_SECONDS"])
    expires_at = message.expires_at or (
        message.created_at + ttl if "code" in (message.params or {}) else None)
    if expires_at and expires_at < utcnow():
        return "验证码已过期,重发也无法使用;请让群众重新获取验证码"
    return None


def message_by_id(message_id: int) -> SmsMessage | None:
    return db.session.get(SmsMessage, message_id)


def list_messages(status: str | None, day: date | None, before: int | None = None,
                  limit: int = 50) -> list[SmsMessage]:
    """Newest first, optionally one status and one local day; `before` pages on by id."""
    query = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    if status:
        query = query.where(SmsMessage.status == status)
    if day:
        start, end = local_day_bounds(day)
        query = query.where(SmsMessage.created_at >= start, SmsMessage.created_at < end)
    if before:
        query = query.where(SmsMessage.id < before)
    return list(db.session.scalars(query))


@dataclass
class DayFigures:
    day: date
    created: int
    sent: int
    delivered: int
    failed: int


def daily_figures(days: int = 7, today: date | None = None) -> list[DayFigures]:
    """Per local day, newest first: created, accepted by the provider, delivered, failed."""
    today = today or to_local(utcnow()).date()
    figures = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        start, end = local_day_bounds(day)
        row = db.session.execute(select(
            func.count(SmsMessage.id),
            func.coalesce(func.sum(case((SmsMessage.sent_at.is_not(None), 1), else_=0)), 0),
            func.coalesce(func.sum(case((SmsMessage.status == SmsStatus.DELIVERED, 1),
                                        else_=0)), 0),
            func.coalesce(func.sum(case((SmsMessage.status.in_(FAILED), 1), else_=0)), 0),
        ).where(SmsMessage.created_at >= start, SmsMessage.created_at < end)).one()
        figures.append(DayFigures(day, *(int(v) for v in row)))
    return figures


def timeline(message_id: int) -> list:
    """The message's audit rows, newest first."""
    return list(db.session.scalars(select(AuditLog).where(
        AuditLog.entity == ENTITY, AuditLog.entity_id == message_id
    ).order_by(AuditLog.id.desc())))
