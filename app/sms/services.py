"""Creating messages in the caller's transaction, the send logic the jobs run, receipts, resends.

Idempotency: a message is created once per idempotency key, and only a job that moves it from
queued (or a due retry) to sending under a row lock may hand it to the provider; a job run twice
finds it already sending and does nothing. A staff resend is a new round on the same row: it goes
back to queued (new attempt, new provider id) and the same rules apply to the job it enqueues.

A call that got no clear answer (a timeout, a worker killed mid-call) may still have been taken by
the provider. Its automatic retry therefore first asks the provider, where it can tell
(`earlier_send`: Aliyun's QuerySendDetails by number, day and OutId), and a message the provider
already has is recorded as sent instead of being sent again.
"""

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, or_, select

from app import jobs
from app.core.models import audit
from app.core.privacy import redact
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


_provider = None


def provider():
    """The configured provider, built once per process."""
    global _provider
    from app.sms.providers import make_provider

    if _provider is None or _provider.name != current_app.config["SMS_BACKEND"]:
        _provider = make_provider(current_app.config)
    return _provider


def send(message_id: int) -> str:
    """The `sms.send` job: send this message (and a batch of others due) unless it already went."""
    now = utcnow()
    message = db.session.get(SmsMessage, message_id, with_for_update=True)
    if message is None:
        db.session.rollback()
        return "missing"
    if message.status == SmsStatus.SENDING and message.sent_at is None:
        if _claim_is_dead(message, now):
            return _recover_batch(message, now)
        db.session.rollback()
        return SmsStatus.SENDING  # another job claimed it and is still on it
    due_at = _due_at(message, now)
    if due_at is None:  # already sent, delivered, or failed for good: nothing of its own to do
        status = message.status
        _send_batch(_claim_more(None, now), now)  # but help drain whatever is waiting
        db.session.rollback()
        return status
    if message.expires_at and message.expires_at <= now:
        return _expire(message)  # a code that could not go out in time is useless now
    if due_at > now:
        _schedule(message, due_at)  # a resend or a moved clock: keep one job at the right time
        return "waiting"
    wake = None if message.urgent else quiet_until(now)
    if wake:
        _schedule(message, wake)
        return "deferred"
    batch = [message]
    if message.status == SmsStatus.QUEUED:  # retries go alone
        batch += _claim_more(message.id, now)
    return _send_batch(batch, now)[message.id]


def _send_batch(batch: list[SmsMessage], now: datetime) -> dict[int, str]:
    """Claim these locked messages, call the provider once, record each answer."""
    if not batch:
        return {}
    claim = jobs.current_job_id()
    earlier = {row.id: _earlier(row) for row in batch
               if row.status == SmsStatus.TECHNICAL_FAILURE}  # read before the claim below
    items = _items(batch)
    for row, out_id in zip(batch, _out_ids(items), strict=True):
        row.sending_at, row.claim_job_id, row.attempts = now, claim, row.attempts + 1
        if out_id != row.idempotency_key:  # carried by a batch call under the batch's OutId
            row.batch_out_id = out_id
        move(row, SmsStatus.SENDING)
    # The claimed messages' own jobs would only find them sent: mark them done now, in the same
    # transaction, and spare the worker a round of locks and commits for each.
    spared = [row.send_job_id for row in batch if row.send_job_id not in (None, claim)]
    if spared:
        jobs.settle(spared)
    ids = [row.id for row in batch]
    db.session.commit()  # claimed: a second run of any of these jobs now does nothing
    results = _call_provider(items, [earlier.get(row_id) for row_id in ids])
    fresh = {row.id: row for row in db.session.scalars(select(SmsMessage).where(
        SmsMessage.id.in_(ids)).with_for_update().execution_options(populate_existing=True))}
    for row_id, result in zip(ids, results, strict=True):
        row = fresh[row_id]
        if row.status != SmsStatus.SENDING or row.sending_at != now:
            log.error("sms #%s changed while its provider call ran; answer %s not recorded",
                      row_id, result.outcome)
            continue
        record_result(row, result, commit=False)
    db.session.commit()
    return {row_id: row.status for row_id, row in fresh.items()}


def _expire(message: SmsMessage) -> str:
    message.next_retry_at = None
    message.reason = "验证码已过期,未发送(需重新获取验证码)"
    move(message, SmsStatus.PERMANENT_FAILURE, note=message.reason)
    db.session.commit()
    return message.status


def _due_at(message: SmsMessage, now: datetime) -> datetime | None:
    """When this message may go to the provider, or None when no send is pending."""
    if message.status == SmsStatus.QUEUED:
        return message.send_after or now
    if message.status in (SmsStatus.TEMPORARY_FAILURE, SmsStatus.TECHNICAL_FAILURE):
        return message.next_retry_at  # None once the retries are used up
    return None


def _schedule(message: SmsMessage, at: datetime) -> None:
    job = jobs.enqueue("sms.send", message.id, run_at=at)
    if message.status == SmsStatus.QUEUED:
        message.send_after, message.send_job_id = at, job.id
    else:
        message.next_retry_at = at
    db.session.commit()


def _claim_more(own_id: int | None, now: datetime) -> list[SmsMessage]:
    """Other queued, due messages, locked for one provider call (which groups by template)."""
    size = current_app.config["SMS_BATCH_SIZE"]
    if size <= 1 or db.session.get_bind().dialect.name != "postgresql":
        return []  # SQLite has no SKIP LOCKED and serialises writers anyway
    query = select(SmsMessage).where(
        SmsMessage.status == SmsStatus.QUEUED,
        or_(SmsMessage.send_after.is_(None), SmsMessage.send_after <= now),
        or_(SmsMessage.expires_at.is_(None), SmsMessage.expires_at > now),
    ).order_by(SmsMessage.id).limit(size - 1).with_for_update(skip_locked=True)
    if own_id is not None:
        query = query.where(SmsMessage.id != own_id)
    if quiet_until(now):
        query = query.where(SmsMessage.urgent.is_(True))
    return list(db.session.scalars(query))


def _items(batch: list[SmsMessage]) -> list:
    from app.sms.providers.base import SmsItem

    return [SmsItem(phone=m.phone, template=m.template, params=m.params, text=m.text,
                    out_id=m.idempotency_key) for m in batch]


def _earlier(row: SmsMessage) -> tuple[list[str], datetime]:
    """What to ask the provider before retrying: the OutIds of this round's calls, and since when
    (the day before the last attempt: a batch attempt came at most a retry chain earlier)."""
    out_ids = [row.idempotency_key] + ([row.batch_out_id] if row.batch_out_id else [])
    last = row.sending_at or row.created_at
    return out_ids, (last - timedelta(days=1)).replace(tzinfo=UTC)


def _out_ids(items: list) -> list[str]:
    """The OutId each message travels under (a batch call has one for all its messages)."""
    try:
        chosen = provider()
    except Exception:  # noqa: BLE001 - _call_provider records why it cannot be built
        return [item.out_id for item in items]
    return chosen.out_ids(items) if hasattr(chosen, "out_ids") else [i.out_id for i in items]


def _call_provider(items: list, earlier: list | None = None) -> list:
    """The provider's answer for each message; any surprise becomes a technical failure.

    A message in `earlier` (a retry after an unclear answer) is first looked up where the
    provider can tell, and sent only when the provider does not have it.
    """
    from app.sms.providers.base import SendResult

    try:
        chosen = provider()
        results = [None] * len(items)
        if hasattr(chosen, "earlier_send"):
            for n, check in enumerate(earlier or []):
                if check:
                    results[n] = chosen.earlier_send(items[n], *check)
                    if results[n] is not None and results[n].outcome != "technical_failure":
                        log.info("sms %s: the provider already had it; not sent again",
                                 items[n].out_id[:12])
        todo = [n for n, result in enumerate(results) if result is None]
        answers = list(chosen.send_batch([items[n] for n in todo])) if todo else []
        if len(answers) != len(todo):
            raise ValueError(f"{len(answers)} answers for {len(todo)} messages")
        for n, answer in zip(todo, answers, strict=True):
            results[n] = answer
    except Exception as exc:  # noqa: BLE001 - the worker must record it, not crash
        log.exception("sms provider call failed")
        reason = redact(f"短信通道调用出错({type(exc).__name__}: {exc})")[:300]
        results = [SendResult("technical_failure", None, reason) for _ in items]
    return results


def record_result(message: SmsMessage, result, commit: bool = True) -> str:
    """Move a message by the provider's answer; temporary kinds get a retry with backoff."""
    now = utcnow()
    if result.outcome == "sent":
        message.provider_id, message.sent_at = result.provider_id, now
        message.reason, message.next_retry_at = None, None
        if getattr(provider(), "name", None) == "console":  # it has no receipts to wait for
            move(message, SmsStatus.DELIVERED, note="console")
            message.delivered_at = now
        elif getattr(result, "delivered", False):  # found by a retry, its receipt already in
            move(message, SmsStatus.DELIVERED, note="短信通道查询:已送达,未重发")
            message.delivered_at = now
    elif result.outcome == "permanent_failure":
        message.reason, message.next_retry_at = result.reason or "短信通道拒绝发送", None
        move(message, SmsStatus.PERMANENT_FAILURE, note=message.reason)
    else:
        to = (SmsStatus.TEMPORARY_FAILURE if result.outcome == "temporary_failure"
              else SmsStatus.TECHNICAL_FAILURE)
        _fail_and_retry(message, to, result.reason or result.outcome, now)
    status = message.status
    if commit:
        db.session.commit()
    return status


def _fail_and_retry(message: SmsMessage, to: SmsStatus, reason: str, now: datetime) -> None:
    """Record a failure worth retrying; after JOB_RETRY_INTERVALS run out it stays visible."""
    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    retry_at = (now + timedelta(seconds=intervals[message.retries])
                if message.retries < len(intervals) else None)
    if retry_at and message.expires_at and retry_at >= message.expires_at:
        message.next_retry_at = None
        message.reason = f"{reason}(验证码有效期内无法再试,不再重试)"
    elif retry_at:
        message.next_retry_at, message.retries = retry_at, message.retries + 1
        message.reason = f"{reason}(将自动重试,第 {message.retries} 次)"
        jobs.enqueue("sms.send", message.id, run_at=message.next_retry_at)
    else:
        message.next_retry_at = None
        message.reason = f"{reason}(已自动重试 {len(intervals)} 次,不再重试)"
    move(message, to, note=message.reason)


def _claim_is_dead(message: SmsMessage, now: datetime) -> bool:
    """Whether the job that claimed this unanswered message can no longer record an answer."""
    if message.claim_job_id is None:  # claimed outside a job: only time can tell
        window = jobs.run_limit() + timedelta(seconds=current_app.config["SMS_TIMEOUT"])
        return message.sending_at is None or message.sending_at < now - window
    if message.claim_job_id == jobs.current_job_id():
        return True  # our own earlier run: a row runs again only once that run is over
    # Running, or handed out again (its re-run recovers the batch): leave it to the claimer.
    return jobs.finished(message.claim_job_id)


def _recover_batch(message: SmsMessage, now: datetime) -> str:
    """The job that claimed this batch died mid-send: fail every message of it, with retries."""
    same_claim = (SmsMessage.claim_job_id == message.claim_job_id if message.claim_job_id
                  else SmsMessage.sending_at == message.sending_at)
    batch = [message, *db.session.scalars(select(SmsMessage).where(
        SmsMessage.status == SmsStatus.SENDING, SmsMessage.sent_at.is_(None), same_claim,
        SmsMessage.id != message.id,
    ).with_for_update(skip_locked=True))]
    for row in batch:
        _fail_and_retry(row, SmsStatus.TECHNICAL_FAILURE,
                        "发送过程中断:工作进程退出,未收到短信通道的答复", now)
    status = message.status
    db.session.commit()
    return status


# -- delivery receipts -------------------------------------------------------------------------

@dataclass
class ReceiptReport:
    applied: int = 0
    ignored: int = 0


def receipt_token_ok(given: str | None) -> bool:
    """Compare the shared secret in constant time; no secret configured means no receipts."""
    expected = current_app.config.get("SMS_RECEIPT_TOKEN")
    return bool(expected and given) and hmac.compare_digest(expected.encode(), given.encode())


def apply_receipts(receipts) -> ReceiptReport:
    """Move sent messages to delivered or failed; duplicates, strangers, stale ones are ignored."""
    report = ReceiptReport()
    for receipt in receipts:
        if _apply_receipt(receipt):
            report.applied += 1
        else:
            report.ignored += 1
    db.session.commit()
    return report


def _apply_receipt(receipt) -> bool:
    if not receipt.provider_id:
        return False
    message = db.session.scalar(select(SmsMessage).where(
        SmsMessage.provider_id == str(receipt.provider_id)).with_for_update())
    message = message or _by_out_id(receipt)
    reported = _naive_utc(receipt.reported_at) or utcnow()
    if message is None or message.status != SmsStatus.SENDING:
        return False  # unknown, an earlier round's provider id, or already settled
    if message.receipt_at and reported < message.receipt_at:
        return False
    message.receipt_at, message.error_code = reported, receipt.error_code
    if receipt.delivered:
        message.delivered_at, message.reason = reported, None
        move(message, SmsStatus.DELIVERED, note="delivery receipt")
    else:
        message.reason = f"运营商未能送达(错误码 {receipt.error_code or '未知'})"
        move(message, SmsStatus.PERMANENT_FAILURE, note=message.reason)
    return True


def _by_out_id(receipt) -> SmsMessage | None:
    """A message a retry found already sent has no provider id yet: its receipt names it by the
    call's OutId (our key alone; the batch's OutId and the number in a batch)."""
    from app.sms.providers.aliyun import BATCH_OUT_ID_PREFIX

    if not receipt.out_id:
        return None
    query = select(SmsMessage).where(SmsMessage.provider_id.is_(None),
                                     SmsMessage.status == SmsStatus.SENDING,
                                     SmsMessage.sent_at.is_not(None))
    if receipt.out_id.startswith(BATCH_OUT_ID_PREFIX):
        query = query.where(SmsMessage.batch_out_id == receipt.out_id,
                            SmsMessage.phone == receipt.phone)
    else:
        query = query.where(SmsMessage.idempotency_key == receipt.out_id)
    message = db.session.scalar(query.with_for_update())
    if message is not None:
        message.provider_id = str(receipt.provider_id)
    return message


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


# -- staff -------------------------------------------------------------------------------------

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
    from app.core.models import AuditLog

    return list(db.session.scalars(select(AuditLog).where(
        AuditLog.entity == ENTITY, AuditLog.entity_id == message_id
    ).order_by(AuditLog.id.desc())))
