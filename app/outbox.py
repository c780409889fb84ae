"""The outbox table: one row per job, written in the transaction of the change that causes it.

The rules by which a row is pushed, run, retried and taken back are app/jobs.py's.
"""

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.timeutil import utcnow
from app.extensions import db


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
    carrier: Mapped[str | None] = mapped_column(String(64))  # its RQ job, while pushed
    # A daily job's day ("name@2026-11-23"), or a one-off job's own key (enqueue(key=)):
    # a row with it is written once.
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_outbox_job_status_run_at", "status", "run_at"),)
