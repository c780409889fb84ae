"""The embedded default's reading thread: runs queued reading jobs after the response is sent.

Only used without Redis, where jobs otherwise run inside the request. One daemon thread per
process takes outbox job ids in order and runs each through `jobs.execute`, so the outbox row
records the outcome exactly as a worker would.
"""

import logging
import queue
import threading

from app import jobs
from app.extensions import db

log = logging.getLogger(__name__)
_queue: queue.Queue = queue.Queue()
_thread: threading.Thread | None = None
_start_lock = threading.Lock()


def submit(app, job_id: int) -> None:
    """Run an outbox job on the reading thread (started on first use)."""
    global _thread
    with _start_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, name="photo-reading", daemon=True)
            _thread.start()
    _queue.put((app, job_id))


def _loop() -> None:
    while True:
        app, job_id = _queue.get()
        try:
            with app.app_context():
                try:
                    jobs.execute(job_id)
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the outbox row keeps the job; the thread goes on
            log.exception("reading job #%s failed on the reading thread", job_id)
        finally:
            _queue.task_done()


def wait() -> None:
    """Block until every submitted job has run (tests, and a clean shutdown)."""
    _queue.join()
