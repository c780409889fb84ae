"""What every log line of the current request or job carries: request id, path, user, job.

A plain ContextVar in core, so jobs.py can bind a job's fields without importing Flask's
request, and jobs enqueued while it is bound inherit the request id.
"""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_FIELDS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("palm_log_fields",
                                                                      default=None)


def current() -> dict:
    """The fields bound now (a copy)."""
    return dict(_FIELDS.get() or {})


def request_id() -> str | None:
    """The id of the request (or the request behind the job) running now, if any."""
    return (_FIELDS.get() or {}).get("request_id")


def bind(**fields) -> contextvars.Token:
    """Add fields on top of those bound now, until reset(token)."""
    merged = {**(_FIELDS.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    return _FIELDS.set(merged)


def reset(token: contextvars.Token) -> None:
    _FIELDS.reset(token)


def update(**fields) -> None:
    """Add fields to the scope bound now (learnt during a request, like the signed-in user)."""
    bound = _FIELDS.get()
    if bound is not None:
        bound.update({k: v for k, v in fields.items() if v is not None})


@contextmanager
def job_scope(name: str, job_id: int, request_id: str | None) -> Iterator[None]:
    """The fields of one outbox job while it runs."""
    token = bind(job=name, job_id=job_id, request_id=request_id)
    try:
        yield
    finally:
        reset(token)
