"""Fixtures: real redis-servers, `flask worker` and `flask scheduler` processes, started and
killed by tests."""

import os
import shutil

import httpx
import pytest
from jobs.spare_services import FlaskProcess, RedisServer, free_port, wait_until


@pytest.fixture
def redis_server(tmp_path):
    """Start redis-servers on spare ports; every one is stopped at the end."""
    if not shutil.which("redis-server"):
        if os.environ.get("REDIS_URL"):
            pytest.fail("redis-server is not installed, and these tests need their own")
        pytest.skip("redis-server is not installed")
    servers = []

    def start(*extra: str) -> RedisServer:
        server = RedisServer(tmp_path, *extra).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _flask_processes(app, tmp_path, command: str):
    """A starter of real `flask <command>` processes on the test database, and the list of them."""
    started = []

    def start(redis_url: str, *args: str, **settings) -> FlaskProcess:
        env = {**os.environ, "FLASK_APP": "wsgi.py", "APP_ENV": "development",
               "FLASK_DEBUG": "0", "SECRET_KEY": app.config["SECRET_KEY"],
               "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
               "INSTANCE_PATH": str(tmp_path / "instance"), "SMS_BACKEND": "console",
               "QUIET_HOURS": "0-0", "OUTBOX_SWEEP_SECONDS": "1",
               **{key: str(value) for key, value in settings.items()}}
        process = FlaskProcess(command, env, tmp_path / f"{command}-{len(started)}.log", args)
        started.append(process)
        return process

    return start, started


@pytest.fixture
def flask_worker(app, tmp_path):
    start, started = _flask_processes(app, tmp_path, "worker")
    yield start
    for process in started:
        process.kill()


@pytest.fixture
def flask_scheduler(app, tmp_path):
    start, started = _flask_processes(app, tmp_path, "scheduler")
    yield start
    for process in started:
        process.kill()


@pytest.fixture
def flask_web(app, tmp_path):
    """The web app served by `flask run` on a spare port; returns its process and base URL."""
    start, started = _flask_processes(app, tmp_path, "run")

    def serve(redis_url: str, **settings) -> tuple[FlaskProcess, str]:
        port = free_port()
        process = start(redis_url, "--port", str(port), **settings)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base), 60, lambda: "the web app did not start:\n"
                   + process.output()[-3000:])
        return process, base

    yield serve
    for process in started:
        process.kill()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False
