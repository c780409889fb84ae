"""The `sms.send` job: claim due messages under a row lock, call the provider, record answers.

Only a job that moves a message from queued (or a due retry) to sending under a row lock may hand
it to the provider; a job run twice finds it already sending and does nothing.

A call that got no clear answer (a timeout, a worker killed mid-call) may still have been taken by
the provider. Its automatic retry therefore first asks the provider, where it can tell
(`earlier_send`: Aliyun's QuerySendDetails by number, day and OutId), and a message the provider
already has is recorded as sent instead of being sent again.
"""

import logging
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from app import jobs
from app.core.privacy import redact
from app.core.states import held, move
from app.core.timeutil import utcnow
from app.extensions import db
from app.sms.models import SmsMessage, SmsStatus
from app.sms.providers import SETTINGS, make_provider
from app.sms.providers.base import SendResult, SmsItem
from app.sms.services import quiet_until

log = logging.getLogger(__name__)


def provider():
    """The configured provider, built once per app and again when its settings change."""
    settings = [current_app.config.get(name) for name in SETTINGS]
    built = current_app.extensions.get("sms_provider")
    if built is None or built[0] != settings:
        built = (settings, make_provider(current_app.config))
        current_app.extensions["sms_provider"] = built
    return built[1]


def send(message_id: int) -> str:
    """The `sms.send` job: send this message (and a batch of others due) unless it already went."""
    now = utcnow()
    message = db.session.get(SmsMessage, message_id, with_for_update=True)
    if message is None:
        db.session.rollback()
        return "missing"
    held(message)
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
    return _send_batch(batch, now)[message_id]  # message.id would be read again after the commit


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
    held(*fresh.values())
    for row_id, result in zip(ids, results, strict=True):
        row = fresh[row_id]
        if row.status != SmsStatus.SENDING or row.sending_at != now:
            log.error("sms #%s changed while its provider call ran; answer %s not recorded",
                      row_id, result.outcome)
            continue
        record_result(row, result, commit=False)
    statuses = {row_id: row.status for row_id, row in fresh.items()}  # the commit expires them
    db.session.commit()
    return statuses


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
    rows = list(db.session.scalars(query))
    held(*rows)
    return rows


def _items(batch: list[SmsMessage]) -> list:
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
            move(message, SmsStatus.DELIVERED, note="console", delivered_at=now)
        elif getattr(result, "delivered", False):  # found by a retry, its receipt already in
            move(message, SmsStatus.DELIVERED, note="短信通道查询:已送达,未重发", delivered_at=now)
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
