"""The job queue: an outbox row in the change's transaction, pushed after the commit.

With REDIS_URL unset, jobs run inline right after the commit. With Redis, they go to RQ; if
Redis is down at that moment the row stays pending and the worker's sweep pushes it later.
"""

import contextvars
import importlib
import logging
import os
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
# A running job renews its lease (the row's updated_at) every third of this; a row whose lease
# ran out belongs to a dead worker (SIGKILL, lost machine) and the sweep hands it out again.
# JOB_STUCK_SECONDS overrides it; it must exceed any single blocking call (SMS_TIMEOUT).
STUCK_AFTER = timedelta(seconds=30)
LOST_AFTER = timedelta(minutes=10)

_REGISTRY: dict[str, tuple[Callable, str]] = {}
# Jobs whose pending rows may share one RQ job (one fork, one app context) when pushed together.
_BATCHED: dict[str, int] = {}


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
    # The request that caused it (X-Request-ID), so the worker's log lines carry it too.
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_outbox_job_status_run_at", "status", "run_at"),)


def job(name: str, queue: str = "default", batch: int = 1):
    """Register a function as a job; it takes plain ids and must be safe to run twice.

    With batch > 1, up to that many rows pushed together travel as one RQ job, each row still
    executed (and recorded) on its own.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")

    def decorate(fn: Callable) -> Callable:
        _REGISTRY[name] = (fn, queue)
        if batch > 1:
            _BATCHED[name] = batch
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
    row = OutboxJob(name=name, args=list(args), queue=queue, run_at=run_at or utcnow(),
                    request_id=_request_id())
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
        for group in _groups(rows):
            first = group[0]
            Queue(first.queue, connection=conn).enqueue(
                "app.jobs.run_in_worker", *[row.id for row in group],
                job_id=f"outbox-{first.id}-{first.attempts}",
                retry=Retry(max=len(intervals), interval=intervals), job_timeout=JOB_TIMEOUT,
                failure_ttl=7 * 86400)
            db.session.execute(update(OutboxJob).where(
                OutboxJob.id.in_([row.id for row in group]),
                OutboxJob.status == JobStatus.PENDING
            ).values(status=JobStatus.PUSHED, updated_at=utcnow()))
            pushed += len(group)
    except Exception as exc:  # noqa: BLE001 - any Redis trouble means "sweep later"
        log.warning("outbox push failed, %d job(s) left for the sweep: %s", len(rows) - pushed, exc)
        db.session.rollback()
        return pushed
    db.session.commit()
    return pushed


def _groups(rows: list[OutboxJob]) -> list[list[OutboxJob]]:
    """One group per row, except rows of a batched job, chunked by its batch size."""
    groups: list[list[OutboxJob]] = []
    open_groups: dict[str, list[OutboxJob]] = {}
    for row in rows:
        size = _BATCHED.get(row.name, 1)
        group = open_groups.get(row.name)
        if size > 1 and group is not None and len(group) < size:
            group.append(row)
            continue
        groups.append([row])
        if size > 1:
            open_groups[row.name] = groups[-1]
    return groups


def _final_attempt() -> bool:
    from rq import get_current_job

    current = get_current_job()
    return current is None or not current.retries_left


def stuck_after() -> timedelta:
    """How long a running job may go without renewing its lease before it counts as lost."""
    seconds = current_app.config.get("JOB_STUCK_SECONDS")
    return timedelta(seconds=seconds) if seconds else STUCK_AFTER


def execute(job_id: int, *, final: bool | None = None) -> str:
    """Run one outbox job; re-reads state, records the outcome, re-raises for RQ's retry."""
    row = db.session.get(OutboxJob, job_id, with_for_update=True)
    if row is None or row.status in (JobStatus.DONE, JobStatus.FAILED):
        status = row.status if row else "missing"  # read before the rollback expires it
        db.session.rollback()
        return status
    if row.status == JobStatus.RUNNING and row.updated_at > utcnow() - stuck_after():
        db.session.rollback()  # a live worker holds it (RQ re-ran an abandoned copy)
        return JobStatus.RUNNING
    row.status, row.attempts = JobStatus.RUNNING, row.attempts + 1
    row.updated_at = utcnow()
    name, args, request_id = row.name, list(row.args), row.request_id  # before the commit
    db.session.commit()
    fn, _ = registry()[name]
    lease = _Lease(job_id) if current_app.config.get("REDIS_URL") else None
    token = _current_job.set(job_id)
    log_token = _log_context().bind(job=name, job_id=job_id, request_id=request_id)
    try:
        fn(*args)
    except Exception as exc:
        if lease:
            lease.stop()
        db.session.rollback()
        if final is None:
            final = bool(current_app.config.get("REDIS_URL")) and _final_attempt()
        _record_failure(job_id, exc, final)
        if current_app.config.get("REDIS_URL"):
            raise
        return db.session.get(OutboxJob, job_id).status
    finally:
        _current_job.reset(token)
        _log_context().reset(log_token)
    if lease:
        lease.stop()
    db.session.execute(update(OutboxJob).where(OutboxJob.id == job_id).values(
        status=JobStatus.DONE, last_error=None, updated_at=utcnow()))
    db.session.commit()
    flush()
    return JobStatus.DONE


class _Lease:
    """Renew a running job's updated_at from a side thread, so the sweep can tell it is alive."""

    def __init__(self, job_id: int):
        self.job_id, self.stopped = job_id, threading.Event()
        self.engine = db.engine
        self.period = stuck_after().total_seconds() / 3
        self.thread = threading.Thread(target=self._renew, name=f"lease-{job_id}", daemon=True)
        self.thread.start()

    def _renew(self) -> None:
        while not self.stopped.wait(self.period):
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(OutboxJob).where(
                        OutboxJob.id == self.job_id, OutboxJob.status == JobStatus.RUNNING
                    ).values(updated_at=utcnow()))
            except Exception:  # noqa: BLE001 - a missed renewal only risks a duplicate run
                log.warning("could not renew the lease of job #%s", self.job_id)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)


def _record_failure(job_id: int, exc: Exception, final: bool) -> None:
    row = db.session.get(OutboxJob, job_id)
    log.exception("job %s #%s failed (attempt %s)", row.name, job_id, row.attempts)
    _count_failure(row.name)
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


def _log_context():
    from app.ops import context  # request id, job name and id on every log line (app/ops)

    return context


def _request_id() -> str | None:
    return _log_context().request_id()


def _count_failure(name: str) -> None:
    from app.ops import metrics  # palm_job_failures_total (app/ops/metrics.py)

    metrics.job_failed(name)


def sweep(now: datetime | None = None) -> int:
    """Push (or run inline) what is due: pending rows, lost pushes, jobs of a dead worker."""
    now = now or utcnow()
    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    stuck = db.session.scalars(select(OutboxJob).where(
        OutboxJob.status.in_([JobStatus.RUNNING, JobStatus.PUSHED]),
        OutboxJob.updated_at < now - stuck_after()).with_for_update(skip_locked=True)).all()
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
_SWEEPING = threading.Lock()  # held by the sweeper thread while it sweeps (see prepare_worker)
_current_job: contextvars.ContextVar[int | None] = contextvars.ContextVar("outbox_job",
                                                                         default=None)


def current_job_id() -> int | None:
    """The outbox row whose function is running now, if any."""
    return _current_job.get()


def run_in_worker(job_id: int, *more_ids: int) -> str:
    """RQ's entry point: one app per worker process, then execute() each outbox row."""
    global _worker_app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    with _worker_app.app_context():
        if not more_ids:
            return execute(job_id)
        error = None
        for one in (job_id, *more_ids):
            try:
                execute(one)
            except Exception as exc:  # noqa: BLE001 - run the rest; RQ retries the group
                error = error or exc
        if error:
            raise error  # done rows are skipped on the retry, failed ones run again
        return JobStatus.DONE


def prepare_worker(app) -> None:
    """Let forked work horses reuse the worker's app, each with its own database connections."""
    global _worker_app
    _worker_app = app
    with app.app_context():
        engine = db.engine

    def in_child():
        _SWEEPING.release()
        engine.dispose(close=False)  # never talk on the parent's pooled sockets: open our own

    # Fork only between sweeps: a horse forked while the sweeper thread sat inside a driver (or
    # SQLite's own mutexes) would inherit its locks held, and hang on them.
    os.register_at_fork(before=_SWEEPING.acquire, after_in_parent=_SWEEPING.release,
                        after_in_child=in_child)


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
            with _SWEEPING, app.app_context():
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
