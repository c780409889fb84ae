"""A worker that loses nothing: real redis-servers and real `flask worker` processes.

Each test starts its own redis-server on a spare loopback port (never the shared one), so it can
stop, restart or misconfigure it.
"""

import io
import json
import socket
import subprocess
import threading
import time

import pytest
from jobs.spare_services import FLASK, ROOT, fresh, wait_until
from redis import Redis
from rq import SimpleWorker, Worker
from sqlalchemy import select

from app import jobs
from app.applications.models import Application, Upload
from app.extensions import db
from app.jobs import JobStatus, OutboxJob
from app.sms.models import SmsMessage, SmsStatus
from app.sms.services import queue_sms

STARTUP_ALLOWANCE = 15  # seconds for a new `flask worker` to import the app and register


def _worker_ready(url: str) -> bool:
    return bool(Worker.all(connection=Redis.from_url(url)))


def test_worker_refuses_an_evicting_redis(redis_server, flask_worker):
    evicting = redis_server("--maxmemory-policy", "allkeys-lru")
    worker = flask_worker(evicting.url, "--burst")
    assert worker.proc.wait(60) != 0
    output = worker.output()
    assert "maxmemory-policy is 'allkeys-lru'" in output and "noeviction" in output
    assert not _worker_ready(evicting.url)  # it never registered, so it never took a job


def test_worker_says_clearly_when_redis_is_unreachable(app, tmp_path):
    env = {"FLASK_APP": "wsgi.py", "REDIS_URL": "redis://127.0.0.1:1/0", "SECRET_KEY": "x",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "PATH": "/usr/bin:/bin",
           "INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run([FLASK, "worker", "--burst"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "Cannot reach Redis" in done.stderr


def test_redis_outage_at_commit_then_the_scheduler_pushes(app, monkeypatch, redis_server):
    """Without a worker running: the commit survives the outage and `flask scheduler` pushes."""
    server = redis_server()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    server.stop()
    job_id = jobs.enqueue("booking.no_show", 404).id  # a low-queue job: it waits for Redis
    db.session.commit()
    jobs.flush()
    assert fresh(lambda: db.session.get(OutboxJob, job_id).status) == JobStatus.PENDING
    server.start()
    result = app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert "handed out" in result.output, result.output
    SimpleWorker(["low"], connection=Redis.from_url(server.url)).work(burst=True)
    assert fresh(lambda: db.session.get(OutboxJob, job_id).status) == JobStatus.DONE


def test_an_sms_goes_out_from_the_web_process_while_redis_is_away(app, monkeypatch,
                                                                    redis_server):
    """Sign-in and lookup codes must not wait for Redis: the `high` queue runs inline."""
    server = redis_server()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    server.stop()
    message_id = queue_sms("13900002222", "login_code", {"code": "123456"}, key="outage-1").id
    db.session.commit()
    jobs.flush()
    assert fresh(lambda: db.session.get(SmsMessage, message_id).status) == SmsStatus.DELIVERED


class BlackHole:
    """A TCP server that takes the provider's request and never answers: a send in mid-air."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)  # kept open, never answered
            if conn.recv(65536):
                self.requests += 1

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.mark.parametrize("mode", ["--fork", "--no-fork"])
def test_a_job_killed_mid_send_is_handed_out_again_within_the_bound(
        app, monkeypatch, redis_server, flask_worker, flask_scheduler, mode):
    stuck, sweep = 6, 1  # runs stop at `stuck`: room to kill first on a loaded machine
    server = redis_server()
    hole = BlackHole()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    settings = {"SMS_BACKEND": "aliyun", "ALIYUN_SMS_ENDPOINT": f"http://127.0.0.1:{hole.port}/",
                "ALIYUN_ACCESS_KEY_ID": "test-key", "ALIYUN_ACCESS_KEY_SECRET": "test-secret",
                "ALIYUN_SMS_SIGN_NAME": "掌上办",
                "ALIYUN_SMS_TEMPLATES": json.dumps({"rating_reply": "SMS_900001"}),
                "JOB_STUCK_SECONDS": stuck, "OUTBOX_SWEEP_SECONDS": sweep,
                "SMS_TIMEOUT": 120, "JOB_RETRY_INTERVALS": "600"}
    try:
        message = queue_sms("13900003333", "rating_reply", {"link": "https://x.cn/t/a"}, key="k")
        db.session.commit()
        jobs.flush()
        first = flask_worker(server.url, mode, **settings)
        wait_until(lambda: hole.requests, 60,
                   lambda: "the worker never called the provider:\n" + first.output()[-5000:])
        job = fresh(lambda: db.session.scalar(select(OutboxJob).where(
            OutboxJob.name == "sms.send")))
        assert job.status == JobStatus.RUNNING
        first.kill()  # SIGKILL to the worker and its work horse, in the middle of the send
        killed_at = time.monotonic()
        flask_scheduler(server.url, **settings)  # started now, so it cannot act before the kill
        second = flask_worker(server.url, mode, **settings)  # a supervisor starts one again

        def settled():
            row = db.session.get(SmsMessage, message.id)
            done = db.session.get(OutboxJob, job.id).status == JobStatus.DONE
            return done and row.status == SmsStatus.TECHNICAL_FAILURE and row

        row = wait_until(lambda: fresh(settled), 60, lambda: (
            "the killed job was never handed out again: "
            f"{fresh(lambda: db.session.execute(select(OutboxJob.__table__)).all())}\n"
            f"{fresh(lambda: db.session.execute(select(SmsMessage.__table__)).all())}\n"
            + second.output()[-3000:]))
        elapsed = time.monotonic() - killed_at
    finally:
        hole.close()
    # The documented bound (JOB_STUCK_SECONDS + OUTBOX_SWEEP_SECONDS), plus the new worker's start.
    assert elapsed < stuck + sweep + STARTUP_ALLOWANCE, f"took {elapsed:.1f} s"
    assert "中断" in row.reason and row.next_retry_at is not None  # visible, and retried later
    assert hole.requests == 1  # nothing was sent again behind anyone's back



def test_a_job_killed_mid_compression_is_handed_out_again_within_the_bound(
        app, client, auth, monkeypatch, redis_server, flask_worker, flask_scheduler, s3_server):
    """The first worker's photo store hangs (a black hole), so it is killed mid-compression."""
    stuck, sweep = 6, 1  # runs stop at `stuck`: room to kill first on a loaded machine
    server, hole = redis_server(), BlackHole()
    store = {key: value for key, value in s3_server.settings(
        s3_server.new_bucket(f"palm-kill-{time.monotonic_ns()}")).items() if value is not None}
    for key, value in {**store, "REDIS_URL": server.url}.items():
        monkeypatch.setitem(app.config, key, value)
    settings = {**store, "JOB_STUCK_SECONDS": stuck, "OUTBOX_SWEEP_SECONDS": sweep}
    upload_id = _upload_a_photo(client, auth)  # its compression waits in Redis
    try:
        first = flask_worker(server.url, "--no-fork", **{
            **settings, "S3_ENDPOINT_URL": f"http://127.0.0.1:{hole.port}"})
        wait_until(lambda: hole.requests and fresh(_compression).status == JobStatus.RUNNING,
                   60, lambda: "the worker never started compressing:\n" + first.output()[-5000:])
        first.kill()  # SIGKILL in the middle of reading the original
        killed_at = time.monotonic()
        flask_scheduler(server.url, **settings)
        second = flask_worker(server.url, "--no-fork", **settings)
        wait_until(lambda: fresh(lambda: db.session.get(Upload, upload_id).status) == "ready"
                   and fresh(_compression).status == JobStatus.DONE, 60,
                   lambda: f"never compressed: {fresh(_compression)}\n" + second.output()[-3000:])
        elapsed = time.monotonic() - killed_at
    finally:
        hole.close()
    assert elapsed < stuck + sweep + STARTUP_ALLOWANCE, f"took {elapsed:.1f} s"
    assert fresh(_compression).attempts == 2  # the killed run, then one more
    upload = fresh(lambda: db.session.get(Upload, upload_id))
    assert sorted(s3_server.objects(store["S3_BUCKET"])) == sorted(
        [upload.image_key, upload.thumb_key])  # one copy of each; the original is gone


def _compression() -> OutboxJob:
    return db.session.scalar(select(OutboxJob).where(
        OutboxJob.name == "applications.compress_photo"))


def _upload_a_photo(client, auth) -> int:
    from applications.application_kit import VALID_ID, photo

    from factories import hall, item

    service = item(halls=[hall()], materials=("居民身份证", "户口簿"), code="KILL-01")
    auth.login_citizen("13900004444")
    response = client.post(f"/apply/{service.code}")
    app_id = int(response.location.split("/")[-2])
    assert client.post(f"/applications/{app_id}/applicant", data={
        "name": "张三", "id_number": VALID_ID, "phone": "13900004444"}).status_code == 303
    assert client.post(f"/applications/{app_id}/consent", data={"agree": "1"}).status_code == 303
    material = db.session.get(Application, app_id).materials[0]
    response = client.post(
        f"/applications/{app_id}/materials/{material.id}/photos",
        data={"photo": (io.BytesIO(photo()), "photo.jpg")}, content_type="multipart/form-data",
        headers={"HX-Request": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return db.session.scalar(select(Upload.id).order_by(Upload.id.desc()))


def test_the_worker_loop_outlives_redis_refusing_a_new_worker(capsys):
    """RQ leaves work() on some Redis errors and we start a new worker after a pause; building
    that worker talks to Redis too, so an outage longer than the pause must not end the process."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from app.cli import keep_working

    events = []

    class Flaky:
        built = 0
        stop_requested = False

        def __init__(self):
            Flaky.built += 1
            events.append(f"build {Flaky.built}")
            if Flaky.built in (2, 3):  # Redis still away when the loop comes round
                raise RedisConnectionError("Connection refused")

        def work(self, burst, with_scheduler):
            events.append("work")
            if Flaky.built == 1:
                raise RedisConnectionError("Connection reset by peer")
            self.stop_requested = True  # the fourth worker runs until a SIGTERM

    keep_working(Flaky, burst=False, pause=lambda seconds: events.append(f"sleep {seconds}"))
    assert events == ["build 1", "work", "sleep 2", "build 2", "sleep 2", "build 3", "sleep 2",
                      "build 4", "work"]
    assert capsys.readouterr().err.count("worker lost Redis") == 3
