"""Prometheus metrics: request latency (observed in-process), the rest collected at scrape time.

With PROMETHEUS_MULTIPROC_DIR set (deploy/gunicorn.conf.py sets one), every gunicorn worker
writes its samples to files there and /metrics adds up all the workers. Queue lengths, the
outbox and SMS statuses are read from Redis and the database when Prometheus scrapes. Job
failures happen on worker machines that serve no HTTP, so with Redis they are counted in a Redis
hash that any web machine reports; without Redis jobs run inline in the web process and a
normal counter does.
"""

import logging

from flask import current_app
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from app import config as settings
from app import jobs
from app.extensions import db
from app.jobs import QUEUES, JobStatus, OutboxJob, redis_connection
from app.sms.models import SmsMessage, SmsStatus

log = logging.getLogger(__name__)

FAILURES_KEY = "palm:metrics:job_failures"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# registry=None: each scrape builds its own registry (see registry()).
REQUEST_SECONDS = Histogram(
    "palm_request_duration_seconds", "Time to answer a request, by Flask endpoint and status",
    ["endpoint", "method", "status"], buckets=BUCKETS, registry=None)
JOB_FAILURES_HELP = "Failed job runs (each attempt), by job name"
JOB_FAILURES = Counter("palm_job_failures", JOB_FAILURES_HELP, ["job"], registry=None)
# Labelled, so no sample file exists before the first fallback (gunicorn's master imports this
# before it makes PROMETHEUS_MULTIPROC_DIR).
RATELIMIT_FALLBACKS = Counter(
    "palm_ratelimit_fallbacks", "Times a web process moved its rate limits to memory (Redis away)",
    ["to"], registry=None)


def multiprocess() -> bool:
    return bool(settings.metrics_dir())


_REQUEST_CHILDREN: dict[tuple, object] = {}  # labels() validates and locks on every call


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    key = (endpoint, method, status)
    child = _REQUEST_CHILDREN.get(key)
    if child is None:
        child = REQUEST_SECONDS.labels(endpoint, method, str(status))
        if len(_REQUEST_CHILDREN) < 2000:
            _REQUEST_CHILDREN[key] = child
    child.observe(seconds)


def job_failed(app, name: str) -> None:
    """Count one failed run of a job (jobs.run_failed); never raises: a metric must not break
    the job's record."""
    if not app.config.get("REDIS_URL"):
        JOB_FAILURES.labels(name).inc()
        return
    try:
        redis_connection().hincrby(FAILURES_KEY, name, 1)
    except Exception as exc:  # noqa: BLE001 - Redis trouble: the failure is still on the row
        log.warning("could not count the failure of job %s: %s", name, exc)


class StateCollector:
    """What the queues, the outbox and the SMS table hold now; read on each scrape."""

    def __init__(self, config):
        self.config = config

    def collect(self):
        yield from self._outbox()
        yield from self._sms()
        if self.config.get("REDIS_URL"):
            yield from self._redis()

    def _outbox(self):
        counts = dict(db.session.execute(
            select(OutboxJob.status, func.count()).where(OutboxJob.status != JobStatus.DONE)
            .group_by(OutboxJob.status)).all())
        family = GaugeMetricFamily("palm_outbox_jobs", "Outbox jobs not done, by status",
                                   labels=["status"])
        for status in (JobStatus.PENDING, JobStatus.PUSHED, JobStatus.RUNNING, JobStatus.FAILED):
            family.add_metric([status], counts.get(status, 0))
        yield family

    def _sms(self):
        counts = dict(db.session.execute(
            select(SmsMessage.status, func.count()).group_by(SmsMessage.status)).all())
        family = GaugeMetricFamily("palm_sms_messages", "SMS messages, by status",
                                   labels=["status"])
        for status in SmsStatus:
            family.add_metric([status.value], counts.get(status.value, 0))
        yield family

    def _redis(self):
        from rq import Queue

        up = GaugeMetricFamily("palm_redis_up", "1 when Redis answered this scrape")
        try:
            conn = redis_connection()
            lengths = {name: Queue(name, connection=conn).count for name in QUEUES}
            failures = conn.hgetall(FAILURES_KEY)
        except Exception as exc:  # noqa: BLE001 - report Redis as down, keep the rest
            log.warning("metrics: Redis unavailable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        queue = GaugeMetricFamily("palm_queue_length", "Jobs waiting in each RQ queue",
                                  labels=["queue"])
        for name, length in lengths.items():
            queue.add_metric([name], length)
        yield queue
        counter = CounterMetricFamily("palm_job_failures", JOB_FAILURES_HELP,
                                      labels=["job"])
        for name, value in sorted(failures.items()):
            counter.add_metric([name.decode()], float(value))
        yield counter


def registry() -> CollectorRegistry:
    """This scrape's registry: in-process (or every worker's) samples plus the current state."""
    reg = CollectorRegistry()
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.MultiProcessCollector(reg)
    else:
        reg.register(REQUEST_SECONDS)
        reg.register(RATELIMIT_FALLBACKS)
        if not current_app.config.get("REDIS_URL"):
            reg.register(JOB_FAILURES)
    reg.register(StateCollector(current_app.config))
    return reg


def exposition() -> bytes:
    return generate_latest(registry())


def init_app(app) -> None:
    """METRICS_TOKEN (app/config.py): the bearer token /metrics asks for."""
    jobs.run_failed.connect(job_failed, app)
