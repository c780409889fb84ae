"""Fixtures: one app per session on SQLite or (TEST_DATABASE_URL) PostgreSQL, clean tables per test.

With TEST_DATABASE_URL or REDIS_URL set, an unreachable service fails the run; it never skips.
"""

import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from app import jobs, worker
from app.extensions import db, limiter
from app.factory import create_app

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEST_DB = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS = os.environ.get("REDIS_URL")
TOKEN_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def shanghai(text: str) -> datetime:
    """A moment in the halls' time zone, for tests that set the clock: a test whose outcome
    depends on the hour or the weekday says which it means, so that it passes whenever CI runs:

        @pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday morning
    """
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def _require_services() -> None:
    if TEST_DB:
        import sqlalchemy

        from app.config import database_url

        try:
            with sqlalchemy.create_engine(database_url(TEST_DB)).connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}", 3)
    if TEST_REDIS:
        from redis import Redis

        try:
            Redis.from_url(TEST_REDIS, socket_connect_timeout=2).ping()
        except Exception as exc:  # noqa: BLE001
            pytest.exit(f"REDIS_URL is set but Redis is unreachable: {exc}", 3)


def pytest_sessionstart(session):
    _require_services()


def pytest_report_header(config):
    return [f"database: {'PostgreSQL' if TEST_DB else 'SQLite'}; "
            f"jobs: {'RQ on Redis' if TEST_REDIS else 'inline'}"]


class Client(FlaskClient):
    """A test client that sends the CSRF token on unsafe requests, as htmx and forms do."""

    def open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if kwargs.pop("csrf", True) and method in UNSAFE:
            headers = dict(kwargs.pop("headers", None) or {})
            if "X-CSRFToken" not in headers:  # a token the test brought is used as it is
                headers["X-CSRFToken"] = self.csrf_token()
            kwargs["headers"] = headers
        return self._in_own_context(*args, **kwargs)

    def _in_own_context(self, *args, **kwargs):
        # Each request gets its own app context (its own g and session), as in production;
        # the test's session lets go of its transaction first and re-reads afterwards.
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        # Read it whole and close it, as a server does once it has sent the answer: what runs
        # after the answer (Response.call_on_close) has run before the test looks.
        response.get_data()
        response.close()
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        # /care, a light page that saves the session (the offline page never writes it)
        page = self._in_own_context("/care").get_data(as_text=True)
        return TOKEN_RE.search(page).group(1)


@pytest.fixture(scope="session")
def app():
    tmp = Path(tempfile.mkdtemp(prefix="palm-test-"))
    config = {
        "TESTING": True,
        "DEBUG": False,
        "DEV_OUTBOX": False,  # as in production; tests that read codes there turn it on
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _db_url(tmp),
        "REDIS_URL": TEST_REDIS,
        "RATELIMIT_STORAGE_URI": TEST_REDIS or "memory://",
        "UPLOAD_DIR": str(tmp / "uploads"),
        "SMS_BACKEND": "console",
        "QUIET_HOURS": "0-0",  # quiet-hours tests set their own
    }
    app = create_app(config)
    app.test_client_class = Client
    with app.app_context():
        _migrate(app)
    worker.serve(app)  # in-process RQ workers run jobs against this app
    return app


def _db_url(tmp: Path) -> str:
    from app.config import database_url

    return database_url(TEST_DB) if TEST_DB else f"sqlite:///{tmp / 'test.db'}"


def _migrate(app) -> None:
    """Build the schema by running the migrations, as production does."""
    from flask_migrate import downgrade, upgrade

    if TEST_DB:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(revision="heads")
    if TEST_DB:  # prove the downgrade path too, then rebuild
        downgrade(revision="base")
        upgrade(revision="heads")


def _clean() -> None:
    """Empty every table, children first, and start every id again from 1.

    DELETE, not TRUNCATE, on PostgreSQL too: a test leaves a few rows, and TRUNCATE's fixed
    cost (new files for ~45 tables and their indexes) was 150-300 ms a test on this machine,
    against ~6 ms for the DELETEs. SQLite, with no AUTOINCREMENT, starts ids again by itself."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(text(f'DELETE FROM "{table.name}"'))
    if db.engine.dialect.name == "postgresql":
        # TRUNCATE's RESTART IDENTITY, for every sequence in one statement
        db.session.execute(text(
            "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
            "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"))
    db.session.commit()


@pytest.fixture(autouse=True)
def _fresh(app):
    """Each test starts with empty tables, empty rate limits and an empty queue."""
    with app.app_context():
        _clean()
        limiter.reset()
        if TEST_REDIS:
            from redis import Redis

            Redis.from_url(TEST_REDIS).flushdb()
    ctx = app.app_context()
    ctx.push()
    yield
    db.session.rollback()
    ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def run_jobs(app):
    """Run queued jobs now: an in-process RQ worker with Redis, nothing to do when inline."""

    def run():
        if not TEST_REDIS or app.config.get("REDIS_URL") != TEST_REDIS:
            return  # inline, or a test that has pointed the app at a dead Redis
        from rq import SimpleWorker

        SimpleWorker(list(jobs.QUEUES), connection=jobs.redis_connection()).work(
            burst=True, with_scheduler=False)

    return run


class Auth:
    """Sign people in through the real pages."""

    def __init__(self, client):
        self.client = client

    def login_citizen(self, phone: str = "13800138000"):
        from app.auth.models import SmsCode  # noqa: F401
        from app.sms.models import SmsMessage

        self.client.post("/login/code", data={"phone": phone})
        message = db.session.query(SmsMessage).filter_by(phone=phone).order_by(
            SmsMessage.id.desc()).first()
        response = self.client.post("/login/verify", data={"agree": "1",
                                                           "code": message.params["code"]})
        assert response.status_code == 303, response.get_data(as_text=True)
        return response

    def login_staff(self, username: str, password: str):
        response = self.client.post("/staff/login", data={"username": username,
                                                          "password": password})
        assert response.status_code == 303
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture(scope="session")
def s3_server():
    """A local S3-compatible server (moto, tests/s3_kit.py); if it cannot start, tests fail."""
    from s3_kit import S3Server

    server = S3Server.start()
    yield server
    server.stop()


@pytest.fixture
def push(app):
    """Web Push switched on (VAPID keys) and a local push service that checks each push's VAPID
    signature and decrypts its payload, as a browser's push service and browser would."""
    from push_kit import PushService, vapid_settings

    settings = vapid_settings()
    saved = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    service = PushService(settings["VAPID_PUBLIC_KEY"])
    yield service
    service.stop()
    app.config.update(saved)
