"""The outbox: jobs written with the change, pushed after the commit, never lost."""

from datetime import timedelta

import pytest

from app import jobs
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import JobStatus, OutboxJob

CALLS: list = []


@jobs.job("test.record", queue="low")
def _record(value):
    CALLS.append(value)


@jobs.job("test.explode", queue="default")
def _explode(value):
    raise RuntimeError(f"boom {value}")


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


def test_every_job_uses_a_known_queue():
    assert all(queue in jobs.QUEUES for _, queue in jobs.registry().values())
    assert "sms.send" in jobs.registry()


def test_worker_listens_on_every_queue(app, monkeypatch):
    seen = {}

    class FakeWorker:
        def __init__(self, queues, connection):
            seen["queues"] = queues

        def work(self, **kwargs):
            seen.update(kwargs)

    monkeypatch.setattr("rq.Worker", FakeWorker)
    monkeypatch.setattr(jobs, "redis_connection", lambda: type(
        "R", (), {"config_get": lambda self, k: {"maxmemory-policy": "noeviction"}})())
    monkeypatch.setattr(jobs, "start_sweeper", lambda app, interval: None)
    app.config["REDIS_URL"], old = "redis://127.0.0.1:6379/15", app.config["REDIS_URL"]
    try:
        result = app.test_cli_runner().invoke(args=["worker"])
    finally:
        app.config["REDIS_URL"] = old
    assert result.exit_code == 0, result.output
    assert seen["queues"] == list(jobs.QUEUES) and seen["with_scheduler"] is True


def test_worker_refuses_an_evicting_redis():
    class Evicting:
        def config_get(self, key):
            return {"maxmemory-policy": "allkeys-lru"}

    with pytest.raises(SystemExit, match="noeviction"):
        jobs.check_redis_policy(Evicting())


def test_rolled_back_change_leaves_no_job(app):
    jobs.enqueue("test.record", 1)
    db.session.rollback()
    jobs.flush()
    assert db.session.query(OutboxJob).count() == 0 and CALLS == []


def test_job_runs_after_commit(app, run_jobs):
    row = jobs.enqueue("test.record", 7)
    assert CALLS == []  # nothing before the commit
    db.session.commit()
    jobs.flush()
    run_jobs()
    assert CALLS == [7]
    assert db.session.get(OutboxJob, row.id).status == JobStatus.DONE


def test_running_a_done_job_again_does_nothing(app, run_jobs):
    row = jobs.enqueue("test.record", 1)
    db.session.commit()
    jobs.flush()
    run_jobs()
    assert jobs.execute(row.id) == JobStatus.DONE
    assert CALLS == [1]


def test_failing_job_retries_then_fails_visibly(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    row = jobs.enqueue("test.explode", 1)
    db.session.commit()
    jobs.flush()
    row = db.session.get(OutboxJob, row.id)
    assert row.status == JobStatus.PENDING and row.attempts == 1
    assert "boom 1" in row.last_error and row.run_at > utcnow()
    for _ in range(len(app.config["JOB_RETRY_INTERVALS"])):
        jobs.sweep(now=utcnow() + timedelta(hours=1))
    row = db.session.get(OutboxJob, row.id)
    assert row.status == JobStatus.FAILED
    assert row.attempts == len(app.config["JOB_RETRY_INTERVALS"]) + 1


def test_redis_down_at_commit_loses_nothing(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    row = jobs.enqueue("test.record", 3)
    db.session.commit()
    jobs.flush()  # the push fails quietly
    assert db.session.get(OutboxJob, row.id).status == JobStatus.PENDING
    monkeypatch.setitem(app.config, "REDIS_URL", None)  # Redis "back": the sweep delivers
    assert jobs.sweep(now=utcnow() + timedelta(minutes=1)) == 1
    assert CALLS == [3]


def test_delayed_job_waits_for_its_time(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    jobs.enqueue("test.record", 5, run_at=utcnow() + timedelta(hours=2))
    db.session.commit()
    jobs.flush()
    assert jobs.sweep() == 0 and CALLS == []
    assert jobs.sweep(now=utcnow() + timedelta(hours=3)) == 1 and CALLS == [5]


def test_job_stuck_in_a_dead_worker_is_requeued(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    row = jobs.enqueue("test.record", 9, run_at=utcnow() + timedelta(days=1))
    row.status, row.attempts = JobStatus.RUNNING, 1
    db.session.commit()
    later = utcnow() + jobs.STUCK_AFTER + timedelta(days=1, seconds=1)
    db.session.query(OutboxJob).update({"updated_at": utcnow() - jobs.STUCK_AFTER * 2})
    db.session.commit()
    jobs.sweep(now=later)
    assert CALLS == [9]
