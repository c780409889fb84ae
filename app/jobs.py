"""The job queue. An outbox row, written in the transaction of the change that causes it, owns the
job's whole life; RQ only carries it to a worker. Who runs a job, and when (README, "Jobs and the
worker", has the whole table): pushed right after the commit, or by `flask scheduler` when due later
or when that push failed; a run that raised is due again after the next of JOB_RETRY_INTERVALS;
a row handed out JOB_STUCK_SECONDS ago and not finished is taken back by the scheduler (a run may
last no longer, so a live run is never taken back); daily work is a row a day. Without REDIS_URL
the same rules run inline (and while Redis is away, the `high` queue's jobs run inline too).
"""

import contextlib
import contextvars
import itertools
import logging
import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import NamedTuple

from blinker import Namespace
from flask import current_app, g, has_app_context
from sqlalchemy import String, bindparam, cast, event, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core import logcontext
from app.core.redisconn import check_redis_policy, queue_for, redis_connection  # noqa: F401
from app.core.timeutil import to_local, to_utc, utcnow
from app.extensions import db
from app.outbox import JobStatus, OutboxJob  # noqa: F401 - the queue's table, as jobs.OutboxJob

log = logging.getLogger(__name__)

# Every queue the app uses, highest priority first; the worker listens on all of them.
QUEUES = ("high", "default", "low")

_REGISTRY: dict[str, tuple[Callable, str]] = {}
_BATCHED: dict[str, int] = {}  # rows of these jobs pushed together share one RQ job
_DAILY: dict[str, time] = {}
_current_job = contextvars.ContextVar[int | None]("outbox_job", default=None)
_in_worker: contextvars.ContextVar[bool] = contextvars.ContextVar("in_worker", default=False)

# Sent (sender: the app) with the job's name each time a run raises; app/ops/metrics counts them.
run_failed = Namespace().signal("job-run-failed")


def job(name: str, queue: str = "default", batch: int = 1, daily_at: str | None = None):
    """Register a function as a job; it takes plain ids and must be safe to run twice.

    With batch > 1, up to that many rows pushed together travel as one RQ job (each still run
    and recorded on its own). With daily_at ("HH:MM", local), `flask scheduler` writes a row a day.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")

    def decorate(fn: Callable) -> Callable:
        _REGISTRY[name] = (fn, queue)
        _BATCHED[name] = batch
        if daily_at:
            _DAILY[name] = time.fromisoformat(daily_at)
        return fn

    return decorate


def registry() -> dict[str, tuple[Callable, str]]:
    """All registered jobs: create_app imports every feature's jobs module (app/features.py)."""
    return _REGISTRY


def enqueue(name: str, *args, run_at: datetime | None = None, key: str | None = None
            ) -> OutboxJob:
    """Record a job in the current transaction; it is pushed after the commit. With `key`, at
    most one row ever has it: a second call returns the first row."""
    _, queue = registry()[name]
    if key is not None:
        existing = db.session.scalar(select(OutboxJob).where(OutboxJob.key == key))
        if existing is not None:
            return existing
    due = run_at is None or run_at <= utcnow()
    # Due now, with Redis: written as handed out already, in the change's own transaction, so the
    # push after the commit needs no claim of its own (a transaction fewer for each, #19), and
    # the scheduler's sweep leaves the row alone as it leaves any pushed one.
    born = due and bool(current_app.config.get("REDIS_URL"))
    row = OutboxJob(name=name, args=list(args), queue=queue, run_at=run_at or utcnow(),
                    request_id=logcontext.request_id(), key=key,
                    status=JobStatus.PUSHED if born else JobStatus.PENDING)
    db.session.add(row)
    db.session.flush()
    if due:
        db.session.info.setdefault("outbox_new", []).append(
            Ready(row.id, name, queue, 0, born, utcnow()))
    return row


# A committed row for flush(), as its push needs it. `born`: written pushed (enqueue): no claim.
Ready = NamedTuple("Ready", [("id", int), ("name", str), ("queue", str), ("attempts", int),
                             ("born", bool), ("written", datetime)])


def keyed(key: str) -> bool:
    """Whether a row with this key was ever written (enqueue(key=) writes at most one)."""
    return db.session.scalar(select(OutboxJob.id).where(OutboxJob.key == key)) is not None


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    ids = session.info.pop("outbox_new", [])
    if ids and has_app_context():
        g.setdefault("outbox_ready", []).extend(ids)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("outbox_new", None)


def current_job_id() -> int | None:
    """The outbox row whose function is running now, if any."""
    return _current_job.get()


def finished(job_id: int | None) -> bool:
    """Whether a job has ended (done, failed or gone), so it will record nothing more."""
    status = db.session.scalar(select(OutboxJob.status).where(OutboxJob.id == job_id))
    return status in (None, JobStatus.DONE, JobStatus.FAILED)


def settle(ids: list[int]) -> None:
    """Mark waiting jobs done without running them: another job has done their work."""
    db.session.execute(update(OutboxJob).where(
        OutboxJob.id.in_(ids), OutboxJob.status.in_([JobStatus.PENDING, JobStatus.PUSHED])
    ).values(status=JobStatus.DONE, updated_at=utcnow()))


def run_limit() -> timedelta:
    """JOB_STUCK_SECONDS: the longest a run may take, and how long a row may stay handed out."""
    return timedelta(seconds=current_app.config["JOB_STUCK_SECONDS"])


def flush() -> None:
    """Push (or, without Redis, run) the jobs whose transactions have committed.

    While Redis is away, the `high` queue's jobs (sign-in and lookup codes, every SMS) run here
    as they would without Redis, so codes still arrive; the rest wait for the scheduler.
    """
    if not has_app_context():
        return
    while g.get("outbox_ready"):
        ready, g.outbox_ready = g.outbox_ready, []
        ids = [row.id for row in ready]
        if current_app.config.get("REDIS_URL"):
            # Written pushed long ago (a late flush)? The sweep may have taken it back: claim it.
            late = utcnow() - run_limit() / 2
            born = [row for row in ready if row.born and row.written >= late]
            claim = [row.id for row in ready if not row.born or row.written < late]
            if (not born or _enqueue(born)) and (not claim or push(claim)):
                continue
            ids = db.session.scalars(select(OutboxJob.id).where(
                OutboxJob.id.in_(ids), OutboxJob.queue == QUEUES[0])).all()
        for job_id in ids:
            execute(job_id)


def push(ids: list[int]) -> int:
    """Hand pending rows to RQ in one round trip; on a Redis error they stay for the scheduler.

    The rows are claimed (pending -> pushed, committed) before Redis hears of them: the web's push
    after its commit and the scheduler's sweep may both try a fresh row, and only the claim's
    winner enqueues it, so RQ never carries one run twice. (Rows due at their own commit are
    written pushed instead, with no carrier, see enqueue(), and skip this claim unless pushed
    late: then a row still without a carrier is claimed too, and one the sweep took back and
    handed out is not.) A row whose push fails is pending again; one claimed by a process that
    died before Redis is taken back by sweep()."""
    if not ids:
        return 0
    # Each row's own carrier; _enqueue points a batched group's later rows at its first's.
    return _enqueue(db.session.execute(update(OutboxJob).where(
        OutboxJob.id.in_(ids), (OutboxJob.status == JobStatus.PENDING) | (
            (OutboxJob.status == JobStatus.PUSHED) & OutboxJob.carrier.is_(None))
    ).values(status=JobStatus.PUSHED, updated_at=utcnow(), carrier=_OWN_CARRIER).returning(
        OutboxJob.id, OutboxJob.name, OutboxJob.queue, OutboxJob.attempts)).all())


def _enqueue(rows) -> int:
    """Commit, then give RQ these pushed rows' groups in one round trip; on a Redis error the rows
    are pending again, for the scheduler. (A NULL carrier is the row's own: carrier_of.) RQ keeps
    a finished job a minute (result_ttl): deleting it at once walked every registry, 0.8 ms."""
    groups = _groups(rows)
    for group in groups:
        if len(group) > 1:
            db.session.execute(update(OutboxJob).where(
                OutboxJob.id.in_([row.id for row in group[1:]])).values(
                carrier=_carrier(group[0])))
    db.session.commit()  # push()'s claim; nothing at all for born rows of their own carrier
    if not rows:
        return 0
    limit = int(run_limit().total_seconds())
    try:
        conn = redis_connection()
        with conn.pipeline() as pipe:
            for group in groups:  # RQ's timeout is a backstop: each run stops at the limit
                queue = queue_for(group[0].queue, conn)
                queue.enqueue_many([queue.prepare_data(
                    "app.worker.run_in_worker", tuple(row.id for row in group),
                    job_id=_carrier(group[0]), timeout=limit * len(group) + 60, result_ttl=60,
                    failure_ttl=86400)], pipe)
            pipe.execute()
    except Exception as exc:  # noqa: BLE001 - any Redis trouble means "the scheduler pushes later"
        log.warning("outbox push failed, %d job(s) left for the scheduler: %s", len(rows), exc)
        db.session.rollback()
        db.session.execute(update(OutboxJob).where(
            OutboxJob.id.in_([row.id for row in rows]), OutboxJob.status == JobStatus.PUSHED
        ).values(status=JobStatus.PENDING, carrier=None, updated_at=utcnow()))
        db.session.commit()
        return 0
    return len(rows)


def _groups(rows: list[OutboxJob]) -> list[list[OutboxJob]]:
    """One group per row, except rows of a batched job: chunks of its batch size."""
    groups: list[list[OutboxJob]] = []
    by_name = itertools.groupby(sorted(rows, key=lambda row: (row.name, row.id)), lambda r: r.name)
    for name, same in by_name:
        same, size = list(same), _BATCHED.get(name, 1)
        groups += [same[start:start + size] for start in range(0, len(same), size)]
    return groups


def _carrier(row: OutboxJob) -> str:
    """The id of the RQ job that carries a group, new for each run of its first row."""
    return f"outbox-{row.id}-{row.attempts}"


def carrier_of(row: OutboxJob) -> str:
    """The RQ job carrying a pushed row: the one it names, or (none named) its own."""
    return row.carrier or _carrier(row)


# _carrier of each row itself, in SQL: what push()'s claim writes
_OWN_CARRIER = (literal("outbox-") + cast(OutboxJob.id, String) + literal("-")
                + cast(OutboxJob.attempts, String))


NOT_CLAIMED = "skipped"  # execute()'s answer for a row it did not run


def execute(job_id: int) -> str:
    """Run one row unless it has ended or a live run holds it; record the outcome on it. The
    row's status after the run, or NOT_CLAIMED."""
    now = utcnow()
    # The claim is one UPDATE that reads back what the run needs (#19): it takes the row's lock,
    # and a concurrent claim waits for it, then finds the row running (PostgreSQL checks the WHERE
    # again on the new row version; SQLite has one writer). `now` is read before any such wait.
    claimed = db.session.execute(_CLAIM, {"job_id": job_id, "now": now,
                                          "stuck_before": now - run_limit()}).first()
    if claimed is None:  # gone, ended, or held by a live run: nothing to do; the row says which
        db.session.commit()  # changed nothing; a ROLLBACK would drop psycopg's prepared statements
        return NOT_CLAIMED
    name, args, request_id = claimed.name, list(claimed.args), claimed.request_id
    db.session.commit()
    token = _current_job.set(job_id)
    log_token = logcontext.bind(job=name, job_id=job_id, request_id=request_id)
    try:
        with _stopped_at_run_limit():
            registry()[name][0](*args)
    except Exception as exc:  # noqa: BLE001 - kept on the row; the outbox retries it
        db.session.rollback()
        return _record_failure(job_id, exc)
    finally:
        _current_job.reset(token)
        logcontext.reset(log_token)
    db.session.execute(_DONE, {"job_id": job_id, "now": utcnow()})
    db.session.commit()
    flush()
    return JobStatus.DONE


# execute()'s two statements, built once and on the table (SQLAlchemy's Core): they run twice a
# job, and an ORM-enabled UPDATE spent twice their time in the ORM's bulk-update machinery (#19).
_T = OutboxJob.__table__
_CLAIM = update(_T).where(
    _T.c.id == bindparam("job_id"), _T.c.status.in_([JobStatus.PENDING, JobStatus.PUSHED])
    | ((_T.c.status == JobStatus.RUNNING) & (_T.c.updated_at <= bindparam("stuck_before")))
).values(status=JobStatus.RUNNING, attempts=_T.c.attempts + 1, updated_at=bindparam("now")
         ).returning(_T.c.name, _T.c.args, _T.c.request_id)
_DONE = update(_T).where(_T.c.id == bindparam("job_id")).values(
    status=JobStatus.DONE, last_error=None, updated_at=bindparam("now"))


def _record_failure(job_id: int, exc: Exception) -> str:
    """Due again after the next retry interval, or failed for good after the last."""
    row = db.session.get(OutboxJob, job_id)
    log.exception("job %s #%s failed (attempt %s)", row.name, job_id, row.attempts)
    run_failed.send(current_app._get_current_object(), name=row.name)
    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts > len(intervals):
        row.status = JobStatus.FAILED
    else:
        row.status = JobStatus.PENDING
        row.run_at = utcnow() + timedelta(seconds=intervals[row.attempts - 1])
    db.session.commit()
    return row.status


def execute_in_worker(job_ids) -> None:
    """execute() each row as a worker does: a run that lasts too long is stopped (app/worker.py)."""
    token = _in_worker.set(True)
    try:
        for job_id in job_ids:
            execute(job_id)
    finally:
        _in_worker.reset(token)


def _stopped_at_run_limit():
    """In a worker, stop a run at JOB_STUCK_SECONDS with RQ's own timeout exception (a signal,
    so only on the main thread, where RQ's workers run jobs)."""
    if not _in_worker.get() or threading.current_thread() is not threading.main_thread():
        return contextlib.nullcontext()
    from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty

    return UnixSignalDeathPenalty(int(run_limit().total_seconds()), JobTimeoutException)


def tick(now: datetime | None = None) -> int:
    """One round of `flask scheduler`: the day's rows, then sweep(); how many it handed out."""
    now = now or utcnow()
    registry()
    local = to_local(now)
    for name, at in _DAILY.items():
        day = local.date() - timedelta(days=int(local.time() < at))  # the latest one due
        key = f"{name}@{day.isoformat()}"
        if db.session.scalar(select(OutboxJob.id).where(OutboxJob.key == key)) is None:
            due = to_utc(day, at)
            db.session.add(OutboxJob(name=name, args=[], queue=_REGISTRY[name][1], key=key,
                                     run_at=due))
    try:
        db.session.commit()
    except IntegrityError:  # another scheduler wrote that day's row first
        db.session.rollback()
    return sweep(now)


def sweep(now: datetime | None = None) -> int:
    """Take back rows that went missing, then hand out (or run inline) every row that is due."""
    now = now or utcnow()
    stale = db.session.scalars(select(OutboxJob).where(
        OutboxJob.status.in_([JobStatus.PUSHED, JobStatus.RUNNING]),
        OutboxJob.updated_at < now - run_limit()).with_for_update(skip_locked=True)).all()
    waiting = _still_queued([row for row in stale if row.status == JobStatus.PUSHED])
    for row in stale:
        if row.id in waiting:
            continue  # behind others in its queue: not lost
        given_up = row.attempts > len(current_app.config["JOB_RETRY_INTERVALS"])
        row.status = JobStatus.FAILED if given_up else JobStatus.PENDING
        row.last_error = "worker lost the job" if given_up else row.last_error
    db.session.commit()
    due = db.session.scalars(select(OutboxJob.id).where(
        OutboxJob.status == JobStatus.PENDING, OutboxJob.run_at <= now
    ).order_by(OutboxJob.id).limit(500)).all()
    if current_app.config.get("REDIS_URL"):
        return push(list(due))
    for job_id in due:
        execute(job_id)
    return len(due)


def _still_queued(rows: list[OutboxJob]) -> set[int]:
    """The ids of the rows whose RQ job still waits in its queue (all when Redis is away)."""
    if not rows or not current_app.config.get("REDIS_URL"):
        return set()
    from rq.job import Job
    from rq.job import JobStatus as RQStatus

    carriers = sorted({carrier_of(row) for row in rows})
    try:
        found = Job.fetch_many(carriers, redis_connection())
    except Exception:  # noqa: BLE001 - Redis away: nothing can be pushed now anyway
        return {row.id for row in rows}
    waiting = {carrier for carrier, rq_job in zip(carriers, found, strict=True)
               if rq_job is not None and rq_job.get_status(refresh=False) == RQStatus.QUEUED}
    return {row.id for row in rows if carrier_of(row) in waiting}


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
            except Exception:  # noqa: BLE001 - teardown must not raise; the scheduler retries
                log.exception("outbox flush at teardown failed")
