"""The outbox: jobs written with the change, pushed after the commit, never lost."""

import gc
import time
from datetime import timedelta

import pytest
from redis import Redis

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


def test_worker_listens_on_every_queue_and_only_carries(app, monkeypatch):
    seen = {}

    class FakeWorker:
        def __init__(self, queues, connection, **kwargs):
            seen["queues"] = queues
            seen.update(kwargs)

        def work(self, **kwargs):
            seen.update(kwargs, frozen=gc.get_freeze_count())

    monkeypatch.setattr("rq.Worker", FakeWorker)
    monkeypatch.setattr(jobs, "redis_connection", lambda: type(
        "R", (), {"config_get": lambda self, k: {"maxmemory-policy": "noeviction"}})())
    app.config["REDIS_URL"], old = "redis://127.0.0.1:6379/15", app.config["REDIS_URL"]
    assert gc.get_freeze_count() == 0
    try:
        result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    finally:
        app.config["REDIS_URL"] = old
        gc.unfreeze()
    assert result.exit_code == 0, result.output
    assert seen["queues"] == list(jobs.QUEUES)
    assert seen["with_scheduler"] is False  # the outbox keeps time, not RQ
    assert seen["burst"] is True
    assert seen["worker_ttl"] == app.config["WORKER_TTL"]
    assert seen["maintenance_interval"] == app.config["WORKER_MAINTENANCE_SECONDS"]
    assert seen["frozen"] > 0  # the app's long-lived objects, out of the collector's walks


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
    assert jobs.execute(row.id) == jobs.NOT_CLAIMED
    assert CALLS == [1] and db.session.get(OutboxJob, row.id).status == JobStatus.DONE


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
    later = utcnow() + jobs.run_limit() + timedelta(days=1, seconds=1)
    db.session.query(OutboxJob).update({"updated_at": utcnow() - jobs.run_limit() * 2})
    db.session.commit()
    jobs.sweep(now=later)
    assert CALLS == [9]
    assert db.session.get(OutboxJob, row.id).attempts == 2


def test_a_live_running_job_is_not_run_twice(app):
    row = jobs.enqueue("test.record", 4, run_at=utcnow() + timedelta(days=1))
    row.status, row.attempts = JobStatus.RUNNING, 1
    db.session.commit()
    assert jobs.execute(row.id) == jobs.NOT_CLAIMED and CALLS == []
    assert db.session.get(OutboxJob, row.id).status == JobStatus.RUNNING
    assert jobs.sweep() == 0 and CALLS == []  # not lost either: it ran a moment ago


@jobs.job("test.sleepy", queue="low")
def _sleepy(seconds):
    time.sleep(seconds)
    CALLS.append("woke")


@jobs.job("test.batched", queue="low", batch=10)
def _batched(value):
    CALLS.append(value)


def test_rq_carries_rows_without_retries_of_its_own(app, monkeypatch, redis_server):
    """One RQ job per row, or per batch of a batched job's rows pushed together."""
    from rq import Queue, SimpleWorker

    server = redis_server()
    conn = Redis.from_url(server.url)
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    for n in range(12):
        jobs.enqueue("test.batched", n)
    single = jobs.enqueue("test.record", 99)
    db.session.commit()
    jobs.flush()
    queued = Queue("low", connection=conn).jobs
    assert sorted(len(job.args) for job in queued) == [1, 2, 10]
    assert f"outbox-{single.id}-0" in {job.id for job in queued}
    assert all(job.retries_left is None for job in queued)
    db.session.expire_all()  # each row names the RQ job that carries it, or is carried by its own
    assert {row.id: jobs.carrier_of(row) for row in db.session.query(OutboxJob)} == {
        row_id: job.id for job in queued for row_id in job.args}
    SimpleWorker(["low"], connection=conn).work(burst=True)
    assert sorted(CALLS) == [*range(12), 99]
    db.session.expire_all()
    assert {row.status for row in db.session.query(OutboxJob)} == {JobStatus.DONE}


def test_a_failed_run_is_due_again_on_the_outbox_clock_not_rqs(app, monkeypatch, redis_server):
    from rq import Queue, SimpleWorker

    server = redis_server()
    conn = Redis.from_url(server.url)
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    row = jobs.enqueue("test.explode", 1)
    db.session.commit()
    jobs.flush()
    SimpleWorker(["default"], connection=conn).work(burst=True)
    db.session.expire_all()
    row = db.session.get(OutboxJob, row.id)
    assert row.status == JobStatus.PENDING and row.attempts == 1 and "boom 1" in row.last_error
    assert Queue("default", connection=conn).count == 0  # RQ holds no retry of its own
    assert jobs.sweep() == 0  # not due yet
    assert jobs.sweep(now=utcnow() + timedelta(minutes=5)) == 1
    assert Queue("default", connection=conn).count == 1


def test_a_run_is_stopped_at_the_run_limit(app, monkeypatch, redis_server):
    """RQ stops a run at JOB_STUCK_SECONDS, so a row running longer than that is a dead one."""
    from rq import SimpleWorker

    server = redis_server()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    monkeypatch.setitem(app.config, "JOB_STUCK_SECONDS", 1)
    row = jobs.enqueue("test.sleepy", 30)
    db.session.commit()
    jobs.flush()
    started = time.monotonic()
    SimpleWorker(["low"], connection=Redis.from_url(server.url)).work(burst=True)
    assert time.monotonic() - started < 10 and CALLS == []
    db.session.expire_all()
    row = db.session.get(OutboxJob, row.id)
    assert row.status == JobStatus.PENDING and "Timeout" in row.last_error


def test_a_row_redis_lost_is_handed_out_again_and_a_waiting_one_is_left(
        app, monkeypatch, redis_server):
    from rq import Queue

    server = redis_server()
    conn = Redis.from_url(server.url)
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    lost, waiting = jobs.enqueue("test.record", 1), jobs.enqueue("test.record", 2)
    db.session.commit()
    jobs.flush()
    conn.delete(f"rq:job:outbox-{lost.id}-0")  # as after a restart without its data
    conn.lrem("rq:queue:low", 0, f"outbox-{lost.id}-0")
    later = utcnow() + jobs.run_limit() + timedelta(seconds=1)
    assert jobs.sweep(now=later) == 1
    assert sorted(Queue("low", connection=conn).job_ids) == sorted(
        [f"outbox-{lost.id}-0", f"outbox-{waiting.id}-0"])
    assert jobs.sweep(now=later) == 0  # both wait in the queue now: neither is lost


def test_a_row_the_sweep_meets_while_the_web_pushes_it_is_carried_once(
        app, monkeypatch, redis_server):
    """The web pushes a row after its commit while the scheduler's sweep (another process, here
    another app context and connection) looks for pending rows: RQ gets the row once, or one
    run of it would fail RQ's bookkeeping when the other ended (seen under bench/journey.py)."""
    from rq import Queue

    server = redis_server()
    conn = Redis.from_url(server.url)
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    swept = []

    class SweepMeanwhile:
        """The web's Redis: just before the web's jobs reach it, the scheduler sweeps."""

        def pipeline(self):
            if not swept:
                swept.append(True)
                with app.app_context():
                    swept.append(jobs.sweep())
            return conn.pipeline()

        def __getattr__(self, name):
            return getattr(conn, name)

    monkeypatch.setattr(jobs, "redis_connection", SweepMeanwhile)
    jobs.enqueue("test.record", 1)
    db.session.commit()
    jobs.flush()
    assert swept == [True, 0]  # the row was already the web's: the sweep left it
    assert Queue("low", connection=conn).count == 1


def test_a_due_row_is_written_pushed_and_handed_over_without_a_claim(app, monkeypatch,
                                                                      redis_server):
    """With Redis, a row due now is born `pushed` in the change's own transaction: the push
    after the commit only talks to Redis (no claim of its own in the database)."""
    from rq import Queue
    from sqlalchemy import event

    server = redis_server()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    row = jobs.enqueue("test.record", 7)
    later = jobs.enqueue("test.record", 8, run_at=utcnow() + timedelta(hours=1))
    assert (row.status, row.carrier, later.status) == (JobStatus.PUSHED, None, JobStatus.PENDING)
    db.session.commit()
    row_id = row.id
    statements = []
    engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        jobs.flush()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements == []
    queued = Queue("low", connection=Redis.from_url(server.url)).jobs
    assert [(job.id, job.args) for job in queued] == [(f"outbox-{row_id}-0", (row_id,))]
    assert jobs.carrier_of(db.session.get(OutboxJob, row_id)) == f"outbox-{row_id}-0"


def test_a_row_written_pushed_whose_push_never_came_is_handed_out_by_the_sweep(
        app, monkeypatch, redis_server):
    """The process died between the commit and Redis: the row is pushed but RQ never heard of
    it. The scheduler hands it out again once it has been out JOB_STUCK_SECONDS, not before."""
    from rq import Queue

    server = redis_server()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    row = jobs.enqueue("test.record", 9)
    db.session.commit()
    row_id = row.id
    jobs.g.pop("outbox_ready")  # the push after the commit never happens
    queue = Queue("low", connection=Redis.from_url(server.url))
    assert jobs.sweep() == 0 and queue.jobs == []  # out for less than the limit: left alone
    assert jobs.sweep(utcnow() + jobs.run_limit() + timedelta(seconds=1)) == 1
    assert [job.args for job in queue.jobs] == [(row_id,)]
    db.session.expire_all()
    assert db.session.get(OutboxJob, row_id).status == JobStatus.PUSHED


@pytest.mark.parametrize("swept_first", [False, True])
def test_a_row_written_pushed_but_pushed_late_is_carried_once(app, monkeypatch, redis_server,
                                                              swept_first):
    """A push that comes long after the row was written (a late flush) no longer trusts it:
    the row is claimed like a pending one. If the sweep took it back and handed it out
    meanwhile, RQ already has it and the late push adds nothing; else the late push hands it."""
    import time_machine
    from rq import Queue

    server = redis_server()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    queue = Queue("low", connection=Redis.from_url(server.url))
    row = jobs.enqueue("test.record", 5)
    db.session.commit()
    row_id, ready = row.id, jobs.g.pop("outbox_ready")
    later = utcnow() + jobs.run_limit() + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        if swept_first:
            assert jobs.sweep() == 1  # taken back and handed out by the scheduler
        jobs.g.outbox_ready = ready
        jobs.flush()
    assert [job.args for job in queue.jobs] == [(row_id,)]
    assert jobs.carrier_of(db.session.get(OutboxJob, row_id)) == queue.jobs[0].id
