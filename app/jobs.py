"""The job queue: an outbox row in the change's transaction, pushed after the commit.

With REDIS_URL unset, jobs run inline right after the commit. With Redis, they go to RQ; if
Redis is down at that moment the row stays pending and the worker's sweep pushes it later.
"""

import importlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app, g, has_app_context
from sqlalchemy import JSON, Index, String, Text, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.timeutil import utcnow
from app.extensions import db

log = logging.getLogger(__name__)

# Every queue the app uses, highest priority first; the worker listens on all of them.
QUEUES = ("high", "default", "low")
JOB_TIMEOUT = 120  # seconds a job may run before RQ kills it
STUCK_AFTER = timedelta(seconds=JOB_TIMEOUT + 60)
LOST_AFTER = timedelta(minutes=10)

_REGISTRY: dict[str, tuple[Callable, str]] = {}


class JobStatus:
    PENDING = "pending"
    PUSHED = "pushed"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class OutboxJob(db.Model):
    """A job recorded with the change that causes it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    args: Mapped[list] = mapped_column(JSON, default=list)
    queue: Mapped[str] = mapped_column(String(20), default="default")
    status: Mapped[str] = mapped_column(String(12), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_outbox_job_status_run_at", "status", "run_at"),)


def job(name: str, queue: str = "default"):
    """Register a function as a job; it takes plain ids and must be safe to run twice."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")

    def decorate(fn: Callable) -> Callable:
        _REGISTRY[name] = (fn, queue)
        return fn

    return decorate


def registry() -> dict[str, tuple[Callable, str]]:
    """All registered jobs, importing the modules that define them."""
    from app.models import job_modules

    for module in job_modules():
        importlib.import_module(module)
    return _REGISTRY


def enqueue(name: str, *args, run_at: datetime | None = None) -> OutboxJob:
    """Record a job in the current transaction; it is pushed after the commit."""
    _, queue = registry()[name]
    row = OutboxJob(name=name, args=list(args), queue=queue, run_at=run_at or utcnow())
    db.session.add(row)
    db.session.flush()
    if run_at is None or run_at <= utcnow():
        db.session.info.setdefault("outbox_new", []).append(row.id)
    return row


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    ids = session.info.pop("outbox_new", [])
    if ids and has_app_context():
        g.setdefault("outbox_ready", []).extend(ids)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("outbox_new", None)


def redis_connection():
    """A Redis client with short timeouts, so an outage never hangs a request."""
    from redis import Redis

    return Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=1,
                          socket_timeout=2, health_check_interval=30)


def flush() -> None:
    """Push (or, without Redis, run) the jobs whose transactions have committed."""
    if not has_app_context():
        return
    while g.get("outbox_ready"):
        ids, g.outbox_ready = g.outbox_ready, []
        if current_app.config.get("REDIS_URL"):
            push(ids)
        else:
            for job_id in ids:
                execute(job_id)


def push(ids: list[int]) -> int:
    """Hand jobs to RQ; on a Redis error leave them pending for the sweep."""
    from rq import Queue, Retry

    if not ids:
        return 0
    rows = db.session.scalars(select(OutboxJob).where(OutboxJob.id.in_(ids))).all()
    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    pushed = 0
    try:
        conn = redis_connection()
        for row in rows:
            Queue(row.queue, connection=conn).enqueue(
                "app.jobs.run_in_worker", row.id, job_id=f"outbox-{row.id}-{row.attempts}",
                retry=Retry(max=len(intervals), interval=intervals), job_timeout=JOB_TIMEOUT,
                failure_ttl=7 * 86400)
            db.session.execute(update(OutboxJob).where(
                OutboxJob.id == row.id, OutboxJob.status == JobStatus.PENDING
            ).values(status=JobStatus.PUSHED, updated_at=utcnow()))
            pushed += 1
    except Exception as exc:  # noqa: BLE001 - any Redis trouble means "sweep later"
        log.warning("outbox push failed, %d job(s) left for the sweep: %s", len(rows) - pushed, exc)
        db.session.rollback()
        return pushed
    db.session.commit()
    return pushed


def _final_attempt() -> bool:
    from rq import get_current_job

    current = get_current_job()
    return current is None or not current.retries_left


def execute(job_id: int, *, final: bool | None = None) -> str:
    """Run one outbox job; re-reads state, records the outcome, re-raises for RQ's retry."""
    row = db.session.get(OutboxJob, job_id, with_for_update=True)
    if row is None or row.status in (JobStatus.DONE, JobStatus.FAILED):
        db.session.rollback()
        return row.status if row else "missing"
    row.status, row.attempts = JobStatus.RUNNING, row.attempts + 1
    db.session.commit()
    fn, _ = registry()[row.name]
    try:
        fn(*row.args)
    except Exception as exc:
        db.session.rollback()
        if final is None:
            final = bool(current_app.config.get("REDIS_URL")) and _final_attempt()
        _record_failure(job_id, exc, final)
        if current_app.config.get("REDIS_URL"):
            raise
        return db.session.get(OutboxJob, job_id).status
    db.session.execute(update(OutboxJob).where(OutboxJob.id == job_id).values(
        status=JobStatus.DONE, last_error=None, updated_at=utcnow()))
    db.session.commit()
    flush()
    return JobStatus.DONE


def _record_failure(job_id: int, exc: Exception, final: bool) -> None:
    row = db.session.get(OutboxJob, job_id)
    log.exception("job %s #%s failed (attempt %s)", row.name, job_id, row.attempts)
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    if final or row.attempts > len(intervals):
        row.status = JobStatus.FAILED
    elif current_app.config.get("REDIS_URL"):
        row.status = JobStatus.PUSHED  # RQ holds the retry
    else:
        row.status = JobStatus.PENDING
        row.run_at = utcnow() + timedelta(seconds=intervals[row.attempts - 1])
    db.session.commit()


def sweep(now: datetime | None = None) -> int:
    """Push (or run inline) what is due: pending rows, lost pushes, jobs of a dead worker."""
    now = now or utcnow()
    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    stuck = db.session.scalars(select(OutboxJob).where(
        OutboxJob.status.in_([JobStatus.RUNNING, JobStatus.PUSHED]),
        OutboxJob.updated_at < now - STUCK_AFTER)).all()
    for row in stuck:
        if row.status == JobStatus.PUSHED and row.updated_at > now - LOST_AFTER:
            continue
        if row.attempts > len(intervals):
            row.status, row.last_error = JobStatus.FAILED, row.last_error or "worker lost the job"
        else:
            row.status = JobStatus.PENDING
    db.session.commit()
    due = db.session.scalars(select(OutboxJob.id).where(
        OutboxJob.status == JobStatus.PENDING, OutboxJob.run_at <= now
    ).order_by(OutboxJob.id).limit(500)).all()
    if not due:
        return 0
    if current_app.config.get("REDIS_URL"):
        return push(list(due))
    for job_id in due:
        execute(job_id)
    return len(due)


_worker_app = None


def run_in_worker(job_id: int) -> str:
    """RQ's entry point: one app per worker process, then execute()."""
    global _worker_app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        return execute(job_id)


def check_redis_policy(conn) -> None:
    """Refuse an evicting Redis: it could silently drop queued jobs."""
    policy = conn.config_get("maxmemory-policy").get("maxmemory-policy")
    if policy != "noeviction":
        raise SystemExit(
            f"Redis maxmemory-policy is '{policy}'; jobs could be evicted. "
            "Set 'maxmemory-policy noeviction' before starting the worker.")


def start_sweeper(app, interval: float) -> threading.Thread:
    """Sweep the outbox every `interval` seconds in a daemon thread."""

    def loop():
        while True:
            with app.app_context():
                try:
                    sweep()
                except Exception:  # noqa: BLE001 - the sweep must outlive a bad minute
                    log.exception("outbox sweep failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="outbox-sweeper", daemon=True)
    thread.start()
    return thread


def init_app(app) -> None:
    """Flush the outbox after each request and at the end of CLI app contexts."""

    @app.after_request
    def _flush_after_request(response):
        flush()
        return response

    @app.teardown_appcontext
    def _flush_on_teardown(exc):
        if exc is None and g.get("outbox_ready"):
            try:
                flush()
            except Exception:  # noqa: BLE001 - teardown must not raise; the sweep retries
                log.exception("outbox flush at teardown failed")
