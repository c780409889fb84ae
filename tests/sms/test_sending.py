"""Messages as records: created with the event, sent by a job once, retried, held by quiet hours."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.core.models import AuditLog
from app.core.states import move
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import JobStatus, OutboxJob
from app.sms import sending, services
from app.sms.models import SmsMessage, SmsStatus
from app.sms.providers.base import SendResult


class ScriptedProvider:
    """Answers from a list of outcomes (the last one repeats) and records every item sent."""

    name = "scripted"

    def __init__(self, *outcomes: str):
        self.outcomes, self.sent, self.calls = list(outcomes) or ["sent"], [], 0

    def send_batch(self, items):
        self.calls += 1
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if outcome == "explode":
            raise ConnectionResetError("peer went away")
        self.sent.extend(items)
        return [SendResult(outcome, f"biz-{self.calls}-{n}" if outcome == "sent" else None,
                           None if outcome == "sent" else f"通道答复:{outcome}")
                for n, _ in enumerate(items)]


@pytest.fixture(autouse=True)
def _inline(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)  # jobs inline; the sweep runs retries


@pytest.fixture
def scripted(monkeypatch):
    def install(*outcomes):
        fake = ScriptedProvider(*outcomes)
        monkeypatch.setattr(sending, "provider", lambda: fake)
        return fake

    return install


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves; services and the outbox read it."""

    class Clock:
        now = utcnow()

        def set(self, value: datetime):
            self.now = value

    c = Clock()
    monkeypatch.setattr(services, "utcnow", lambda: c.now)
    monkeypatch.setattr(sending, "utcnow", lambda: c.now)
    monkeypatch.setattr(jobs, "utcnow", lambda: c.now)
    return c


def _queue(phone="13800138000", template="rating_reply", key="k1", **params):
    params = params or {"link": "https://zwfw.example.cn/t/abc"}
    message = services.queue_sms(phone, template, params, key=key)
    db.session.commit()
    jobs.flush()
    return db.session.get(SmsMessage, message.id)


def _statuses(message_id):
    return [row.to_status for row in db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "sms_message", AuditLog.entity_id == message_id
    ).order_by(AuditLog.id))]


def test_message_belongs_to_the_event_transaction():
    services.queue_sms("13800138000", "login_code", {"code": "123456"}, key="gone")
    db.session.rollback()
    jobs.flush()
    assert db.session.query(SmsMessage).count() == 0 and db.session.query(OutboxJob).count() == 0


def test_one_message_per_idempotency_key(scripted):
    fake = scripted("sent")
    first = _queue(key="same")
    again = _queue(key="same")
    assert first.id == again.id and len(fake.sent) == 1


def test_console_message_goes_queued_sending_delivered():
    message = _queue(template="login_code", code="654321")
    assert message.status == SmsStatus.DELIVERED and message.attempts == 1
    assert _statuses(message.id) == ["queued", "sending", "delivered"]
    assert message.masked_text.count("654321") == 0 and "******" in message.masked_text


def test_job_run_twice_never_sends_twice(scripted):
    fake = scripted("sent")
    message = _queue()
    assert message.status == SmsStatus.SENDING and message.provider_id == "biz-1-0"
    job = db.session.scalar(select(OutboxJob))
    assert sending.send(message.id) == SmsStatus.SENDING  # RQ delivering the job twice
    db.session.get(OutboxJob, job.id).status = JobStatus.PENDING  # or the sweep re-pushing it
    db.session.commit()
    jobs.sweep()
    assert len(fake.sent) == 1 and fake.calls == 1


def test_temporary_failures_retry_with_backoff_then_fail_visibly(app, scripted, clock):
    fake = scripted("temporary_failure")
    start = clock.now
    message = _queue()
    intervals = app.config["JOB_RETRY_INTERVALS"]
    assert message.status == SmsStatus.TEMPORARY_FAILURE
    assert message.next_retry_at == start + timedelta(seconds=intervals[0])
    assert jobs.sweep() == 0 and fake.calls == 1  # not before its time
    for n, seconds in enumerate(intervals, start=1):
        clock.set(clock.now + timedelta(seconds=seconds))
        jobs.sweep()
        assert fake.calls == n + 1
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.TEMPORARY_FAILURE and message.next_retry_at is None
    assert message.attempts == len(intervals) + 1 and "不再重试" in message.reason
    clock.set(clock.now + timedelta(days=1))
    jobs.sweep()
    assert fake.calls == len(intervals) + 1  # the end: shown, not retried


def test_technical_failure_then_success(scripted, clock):
    fake = scripted("technical_failure", "sent")
    message = _queue()
    assert message.status == SmsStatus.TECHNICAL_FAILURE and "将自动重试" in message.reason
    clock.set(clock.now + timedelta(seconds=11))
    jobs.sweep()
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.SENDING and message.reason is None and fake.calls == 2


def test_provider_exception_is_a_technical_failure_not_a_crash(scripted):
    scripted("explode")
    message = _queue()
    assert message.status == SmsStatus.TECHNICAL_FAILURE
    assert "ConnectionResetError" in message.reason
    first, retry = db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()
    assert first.status == JobStatus.DONE  # the job did its work: recorded and rescheduled
    assert retry.status == JobStatus.PENDING and retry.run_at == message.next_retry_at


def test_permanent_failure_is_not_retried(scripted, clock):
    fake = scripted("permanent_failure")
    message = _queue()
    assert message.status == SmsStatus.PERMANENT_FAILURE and message.next_retry_at is None
    clock.set(clock.now + timedelta(hours=1))
    jobs.sweep()
    assert fake.calls == 1


def test_unknown_template_is_recorded_as_failed_without_breaking_the_event():
    message = services.queue_sms("13800138000", "no_such_template", {}, key="x")
    db.session.commit()
    jobs.flush()
    assert message.status == SmsStatus.PERMANENT_FAILURE and "no_such_template" in message.reason
    assert db.session.query(OutboxJob).count() == 0


def test_missing_parameter_is_recorded_as_failed():
    message = services.queue_sms("13800138000", "rating_reply", {}, key="y")
    db.session.commit()
    assert message.status == SmsStatus.PERMANENT_FAILURE and "link" in message.reason


def _at_local(hour: int, minute: int = 0) -> datetime:
    """A naive UTC time that is hour:minute in Asia/Shanghai (UTC+8) tomorrow."""
    day = utcnow().date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute) - timedelta(hours=8)


def test_quiet_hours_hold_updates_and_let_codes_through(app, monkeypatch, scripted, clock):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "22-8")
    fake = scripted("sent")
    clock.set(_at_local(23, 30))
    update = _queue(key="update")
    code = _queue(template="login_code", key="code", code="112233")
    assert code.status == SmsStatus.SENDING  # codes always go
    assert update.status == SmsStatus.QUEUED
    assert update.send_after == _at_local(8) + timedelta(days=1)
    clock.set(_at_local(7, 59) + timedelta(days=1))
    jobs.sweep()
    assert db.session.get(SmsMessage, update.id).status == SmsStatus.QUEUED
    clock.set(_at_local(8) + timedelta(days=1))
    jobs.sweep()
    assert db.session.get(SmsMessage, update.id).status == SmsStatus.SENDING
    assert [item.template for item in fake.sent] == ["login_code", "rating_reply"]


def test_a_retry_falling_into_quiet_hours_waits_for_morning(app, monkeypatch, scripted, clock):
    monkeypatch.setitem(app.config, "QUIET_HOURS", "22-8")
    fake = scripted("technical_failure", "sent")
    clock.set(_at_local(21, 59, ) + timedelta(seconds=55))
    message = _queue()
    clock.set(_at_local(22, 1))
    jobs.sweep()
    message = db.session.get(SmsMessage, message.id)
    assert fake.calls == 1 and message.next_retry_at == _at_local(8) + timedelta(days=1)
    clock.set(message.next_retry_at)
    jobs.sweep()
    assert fake.calls == 2


def test_a_send_cut_off_by_a_dead_worker_becomes_a_technical_failure(scripted, clock):
    fake = scripted("sent")
    claimed = clock.now - timedelta(minutes=5)
    rows = [SmsMessage(phone="13800138000", template="rating_reply", text="t", params={},
                       idempotency_key=f"cut-{n}", status=SmsStatus.SENDING, sending_at=claimed,
                       attempts=1) for n in range(2)]
    db.session.add_all(rows)
    db.session.commit()
    sending.send(rows[0].id)  # the dead job's row, handed out again by the sweep
    for row in rows:
        row = db.session.get(SmsMessage, row.id)
        assert row.status == SmsStatus.TECHNICAL_FAILURE and "中断" in row.reason
        assert row.next_retry_at is not None
    assert fake.calls == 0


def test_a_fresh_claim_by_a_live_job_is_left_alone(scripted):
    fake = scripted("sent")
    row = SmsMessage(phone="13800138000", template="rating_reply", text="t", params={},
                     idempotency_key="live", status=SmsStatus.SENDING, sending_at=utcnow(),
                     attempts=1)
    db.session.add(row)
    db.session.commit()
    assert sending.send(row.id) == SmsStatus.SENDING and fake.calls == 0


def test_transition_refuses_a_move_the_table_does_not_allow():
    message = _queue(template="login_code", code="123456")
    with pytest.raises(services.SmsError):
        move(message, SmsStatus.SENDING)


def test_a_job_sends_a_batch_and_each_message_still_goes_once(scripted):
    fake = scripted("sent")
    ids = [services.queue_sms(f"1380013800{n}", "rating_reply", {"link": "https://x.cn/t/a"},
                              key=f"batch-{n}").id for n in range(5)]
    services.queue_sms("13800138009", "login_code", {"code": "123456"}, key="other-template")
    db.session.commit()
    db.session.info.pop("outbox_new", None)
    jobs.g.pop("outbox_ready", None)  # hold the pushes: one job will find the rest queued
    sending.send(ids[0])
    batched = db.session.get_bind().dialect.name == "postgresql"  # SKIP LOCKED claims
    assert fake.calls == 1 and len(fake.sent) == (6 if batched else 1)
    for job in db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all():
        jobs.execute(job.id)
    assert sorted(item.phone for item in fake.sent) == sorted(
        [f"1380013800{n}" for n in range(5)] + ["13800138009"])
    assert fake.calls == (1 if batched else 6)
    statuses = {m.status for m in db.session.scalars(select(SmsMessage))}
    assert statuses == {SmsStatus.SENDING}


@pytest.mark.parametrize("claimer_status, recovered", [
    (JobStatus.RUNNING, False), (JobStatus.PUSHED, False), (JobStatus.DONE, True)])
def test_a_batch_mate_is_left_to_its_claimer_unless_the_claimer_is_gone(
        scripted, claimer_status, recovered):
    fake = scripted("sent")
    claimer = jobs.enqueue("sms.send", 0, run_at=utcnow() + timedelta(days=1))
    claimer.status = claimer_status
    row = SmsMessage(phone="13800138000", template="rating_reply", text="t", params={},
                     idempotency_key="mate", status=SmsStatus.SENDING, sending_at=utcnow(),
                     claim_job_id=claimer.id, attempts=1)
    db.session.add(row)
    db.session.commit()
    sending.send(row.id)
    row = db.session.get(SmsMessage, row.id)
    assert row.status == (SmsStatus.TECHNICAL_FAILURE if recovered else SmsStatus.SENDING)
    assert fake.calls == 0
