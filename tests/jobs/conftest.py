"""Fixtures: real redis-servers and `flask worker` processes, started and killed by tests."""

import os
import shutil

import pytest
from jobs.spare_services import RedisServer, WorkerProcess


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


@pytest.fixture
def flask_worker(app, tmp_path):
    """Start real workers against the test database; each is killed at the end."""
    workers = []

    def start(redis_url: str, *args: str, **settings) -> WorkerProcess:
        env = {**os.environ, "FLASK_APP": "wsgi.py", "APP_ENV": "development",
               "FLASK_DEBUG": "0", "SECRET_KEY": app.config["SECRET_KEY"],
               "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
               "INSTANCE_PATH": str(tmp_path / "instance"), "SMS_BACKEND": "console",
               "QUIET_HOURS": "0-0", "OUTBOX_SWEEP_SECONDS": "1",
               **{key: str(value) for key, value in settings.items()}}
        worker = WorkerProcess(env, tmp_path / f"worker-{len(workers)}.log", args)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.kill()
