"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`."""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, one per core: requests are short and the database does the waiting.
# GUNICORN_THREADS > 1 runs gthread workers instead (bench/journey.py --threads compares them).
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Recycle workers to bound slow leaks, but seldom: a new worker spent ~0.6 s of CPU warming up
# (templates compiled, SQLAlchemy's statement cache, the catalog copy), and at bench/journey.py's
# ~5,800 requests a minute, 2,000 was ~2% of all the web's CPU (10,000: ~0.4%). The templates and
# the mappers now come warm from the master (when_ready below).
max_requests = 10000
max_requests_jitter = 1000
# The app reads X-Forwarded-* itself through ProxyFix (PROXY_FIX=1); gunicorn trusts only
# the local proxy.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
# No query strings in the access log: links and lookups must not leak numbers into logs.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"

# -- observability (README "Observability") ---------------------------------------------------
# LOG_FORMAT=json (the default with APP_ENV=production): gunicorn's own lines become JSON objects
# too, through the app's formatter, and its access log is off because the app writes one line per
# request itself, with the request id, endpoint, status, duration and user.
if (os.environ.get("LOG_FORMAT") or ("json" if os.environ.get("APP_ENV") == "production"
                                     else "text")).strip().lower() == "json":
    accesslog = None
    logconfig_dict = {
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json",
                              "stream": "ext://sys.stderr"}},
        "formatters": {"json": {"()": "app.ops.logs.JsonFormatter"}},
    }

    from gunicorn.glogging import Logger

    class AppWritesTheAccessLine(Logger):
        """gunicorn's logger, minus the access line's making. With any logconfig_dict, gunicorn
        builds every request's atoms (its headers and environ, as a dict) for a line the
        "gunicorn.access" level above then drops: ~0.7% of a web worker's time under
        bench/journey.py (py-spy), for nothing. (A logger_class of our own also means gunicorn
        no longer swaps in its statsd logger for --statsd-host; we use Prometheus instead.)"""

        def access(self, resp, req, environ, request_time):
            return None

    logger_class = AppWritesTheAccessLine

# Prometheus multiprocess mode: each worker writes its samples under this directory and /metrics
# adds them up. The systemd unit gives a fresh /run/palm-metrics; elsewhere (compose, by hand) a
# fresh private directory per start. Set before the app (and prometheus_client) is imported.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="palm-metrics-")


def on_starting(server):
    """Start from empty metric files: samples of a previous run's pids must not add up."""
    from pathlib import Path

    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """A dead worker's live gauges leave the sum (its counters and histograms stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# -- preloading ---------------------------------------------------------------------------------
# The app is imported once in the master and the workers fork from it: a worker recycled by
# max_requests is serving again in milliseconds, not after seconds of imports on a busy machine
# (bench/journey.py saw 4-16 s stalls without it). Connections must not cross the fork.
preload_app = True


def when_ready(server):
    """Once, in the master, before the first fork: configure the ORM's mappers and compile every
    template, so that no worker (nor each one recycled by max_requests) does it again on its
    first requests, and all share those pages. Measured: ~0.2 s for the mappers and ~1 s for
    the ~150 templates, work each worker otherwise did piecemeal while the first phones waited."""
    from sqlalchemy.orm import configure_mappers

    app = server.app.wsgi()
    configure_mappers()
    env = app.jinja_env
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


def post_fork(server, worker):
    """Each worker opens its own database connections; none inherited from the master."""
    from app.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


# -- garbage collection -------------------------------------------------------------------------
def pre_fork(server, worker):
    """The preloaded app (modules, mappers, templates) lives as long as the worker: frozen, no
    full collection in the worker walks it again. In-process, a journey's gen-2 collections
    went from 9.6 to 2.1 ms of its ~190 ms (Python's gc.freeze, for forking servers)."""
    gc.freeze()
