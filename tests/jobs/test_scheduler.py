"""`flask scheduler`: keeps time for the jobs (due outbox rows, RQ's delayed retries), runs none."""

from datetime import timedelta

from redis import Redis
from rq import Queue

from app import jobs
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import JobStatus, OutboxJob


@jobs.job("test.scheduled", queue="default")
def _scheduled(value):
    raise AssertionError("the scheduler must not run jobs")


def test_without_redis_it_explains_and_stops(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output


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
    assert "pushed 1 due job" in result.output
    db.session.expire_all()
    assert db.session.get(OutboxJob, due_id).status == JobStatus.PUSHED
    assert db.session.get(OutboxJob, later_id).status == JobStatus.PENDING
    queued = Queue("default", connection=Redis.from_url(server.url)).jobs
    assert [job.args for job in queued] == [(due_id,)]
    # Nothing ran here: the scheduler only hands jobs over.
    assert db.session.get(OutboxJob, due_id).attempts == 0
