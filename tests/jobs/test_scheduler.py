"""`flask scheduler` keeps time for the jobs (daily, lost and due rows); with Redis it runs none."""

from datetime import datetime, timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from app import jobs
from app.applications.deadlines import HOUSEKEEPING
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import JobStatus, OutboxJob

CALLS: list = []


@jobs.job("test.scheduled", queue="default")
def _scheduled(value):
    CALLS.append(value)


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


def _daily_rows() -> list[tuple[str, datetime]]:
    return db.session.execute(select(OutboxJob.key, OutboxJob.run_at).where(
        OutboxJob.name == HOUSEKEEPING).order_by(OutboxJob.id)).all()


def test_without_redis_it_runs_what_is_due_here(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    due = jobs.enqueue("test.scheduled", 1, run_at=utcnow() - timedelta(seconds=1))
    jobs.enqueue("test.scheduled", 2, run_at=utcnow() + timedelta(hours=2))
    db.session.commit()
    due_id = due.id
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    assert CALLS == [1]
    assert db.session.get(OutboxJob, due_id).status == JobStatus.DONE


def test_refuses_an_evicting_redis(app, runner, monkeypatch, redis_server):
    server = redis_server("--maxmemory-policy", "allkeys-lru")
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code != 0 and "noeviction" in result.output


def test_pushes_what_is_due_and_leaves_the_rest(app, runner, monkeypatch, redis_server):
    server = redis_server()
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # down at the commit
    due = jobs.enqueue("test.scheduled", 1)
    later = jobs.enqueue("test.scheduled", 2, run_at=utcnow() + timedelta(hours=2))
    db.session.commit()
    jobs.flush()  # the push fails quietly: both rows wait in the outbox
    due_id, later_id = due.id, later.id
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    # ours, and the day's housekeeping and 容缺 reminders
    assert "handed out 3 due job(s)" in result.output
    db.session.expire_all()
    assert db.session.get(OutboxJob, due_id).status == JobStatus.PUSHED
    assert db.session.get(OutboxJob, later_id).status == JobStatus.PENDING
    queued = Queue("default", connection=Redis.from_url(server.url)).jobs
    assert [job.args for job in queued] == [(due_id,)]
    # Nothing ran here: the scheduler only hands jobs over.
    assert db.session.get(OutboxJob, due_id).attempts == 0 and CALLS == []


def test_a_daily_job_gets_one_row_a_day_at_its_local_time(app, monkeypatch):
    """Housekeeping is daily at 03:00 Shanghai time (19:00 UTC the day before)."""
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # hand out nothing
    for now in (datetime(2026, 3, 9, 18, 0), datetime(2026, 3, 9, 18, 59)):  # 02:00, 02:59
        jobs.tick(now)
    assert _daily_rows() == [(f"{HOUSEKEEPING}@2026-03-09", datetime(2026, 3, 8, 19, 0))]
    for now in (datetime(2026, 3, 9, 19, 0), datetime(2026, 3, 10, 3, 0)):  # 03:00, 11:00
        jobs.tick(now)
    assert _daily_rows()[1:] == [(f"{HOUSEKEEPING}@2026-03-10", datetime(2026, 3, 9, 19, 0))]


def test_a_daily_row_that_fails_is_retried_and_not_written_again(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    monkeypatch.setattr("app.applications.deadlines.purge_photos",
                        lambda now: (_ for _ in ()).throw(OSError("store away")))
    now = datetime(2026, 3, 10, 3, 0)
    jobs.tick(now)
    row = db.session.scalar(select(OutboxJob).where(OutboxJob.name == HOUSEKEEPING))
    assert row.status == JobStatus.PENDING and row.attempts == 1
    jobs.tick(now + timedelta(minutes=1))
    assert len(_daily_rows()) == 1
