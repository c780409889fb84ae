"""RQ's entry point. An RQ job carries only outbox row ids (app/jobs.py pushes them by this
function's dotted name); the worker runs each row in an app context of its process's app.

`flask worker` runs with the app it was started with; a plain `rq worker` has none, so the first
job builds one with create_app(), from the same settings.
"""

from flask import Flask, current_app, has_app_context

from app import jobs
from app.factory import create_app

_app: Flask | None = None


def serve(app: Flask) -> None:
    """Run the jobs of this process against `app` (the tests' in-process workers)."""
    global _app
    _app = app


def run_in_worker(*job_ids: int) -> None:
    """Execute each row in a fresh app context of this process's app."""
    if _app is None:
        serve(current_app._get_current_object() if has_app_context() else create_app())
    with _app.app_context():
        jobs.execute_in_worker(job_ids)
