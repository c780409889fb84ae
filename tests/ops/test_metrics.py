"""Prometheus metrics at /metrics: kept from the public, and what they report."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from app import jobs
from app.core.timeutil import utcnow
from app.extensions import db
from app.sms.services import queue_sms

ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS = os.environ.get("REDIS_URL")


@jobs.job("ops_test.fail")
def _always_fails(n):
    raise RuntimeError(f"broken job {n}")


@jobs.job("ops_test.noop")
def _noop(n):
    return n


def _samples(text: str) -> dict:
    """{(name, ((label, value), ...)): value} of every sample."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _value(text: str, name: str, **labels) -> float | None:
    return _samples(text).get((name, tuple(sorted(labels.items()))))


def _scrape(client, **kw) -> str:
    response = client.get("/metrics", **kw)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.get_data(as_text=True)


# -- who may read them ---------------------------------------------------------------------------

def test_public_addresses_get_not_found(client):
    for address in ("203.0.113.7", "8.8.8.8", "2001:db8::1"):
        response = client.get("/metrics", environ_overrides={"REMOTE_ADDR": address})
        assert response.status_code == 404


def test_loopback_and_private_addresses_may_scrape_without_a_token_set(client):
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.9", "172.16.5.5", "::1"):
        assert client.get("/metrics", environ_overrides={"REMOTE_ADDR": address}
                          ).status_code == 200


def test_with_a_token_set_the_bearer_token_is_required(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-scrape-token")
    assert client.get("/metrics").status_code == 403
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and b"palm_" not in wrong.data
    assert client.get("/metrics", headers={"Authorization": "s3cret-scrape-token"}
                      ).status_code == 403
    right = {"Authorization": "Bearer s3cret-scrape-token"}
    assert b"palm_request_duration_seconds" in client.get("/metrics", headers=right).data
    public = client.get("/metrics", headers=right, environ_overrides={"REMOTE_ADDR": "8.8.8.8"})
    assert public.status_code == 404  # the token does not open it to the internet


def test_nginx_refuses_metrics_and_passes_its_request_id():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    block = conf[conf.index("location = /metrics"):]
    assert "return 404;" in block[:block.index("}")]
    assert conf.count("proxy_set_header X-Request-ID $request_id;") == conf.count("proxy_pass")


# -- what they say -------------------------------------------------------------------------------

def test_request_latency_by_endpoint_and_status(client):
    before = _scrape(client)
    for _ in range(3):
        client.get("/offline")
    client.get("/no/such/page/13800138000")
    after = _scrape(client)
    labels = {"endpoint": "pages.offline", "method": "GET", "status": "200"}
    count = "palm_request_duration_seconds_count"
    assert (_value(after, count, **labels) or 0) - (_value(before, count, **labels) or 0) == 3
    assert _value(after, count, endpoint="none", method="GET", status="404") >= 1
    assert "13800138000" not in after and "/offline" not in after  # endpoints, never paths
    assert _value(after, "palm_request_duration_seconds_bucket", le="+Inf", **labels) >= 3


def test_job_failures_are_counted_by_job(app, client, run_jobs):
    before = _value(_scrape(client), "palm_job_failures_total", job="ops_test.fail") or 0
    jobs.enqueue("ops_test.fail", 1)
    db.session.commit()
    jobs.flush()
    run_jobs()
    after = _value(_scrape(client), "palm_job_failures_total", job="ops_test.fail")
    assert after == before + 1


def test_queue_length_and_outbox_pending_are_reported(app, client):
    for n in range(3):
        jobs.enqueue("ops_test.noop", n)
    jobs.enqueue("ops_test.noop", 9, run_at=utcnow() + timedelta(hours=1))
    db.session.commit()
    jobs.flush()  # pushed to RQ (nobody works the queue here), or run inline without Redis
    text = _scrape(client)
    if TEST_REDIS:
        assert _value(text, "palm_redis_up") == 1
        assert _value(text, "palm_queue_length", queue="default") == 3
        assert _value(text, "palm_queue_length", queue="high") == 0
        assert _value(text, "palm_outbox_jobs", status="pushed") == 3
    else:
        assert _value(text, "palm_queue_length", queue="default") is None
    assert _value(text, "palm_outbox_jobs", status="pending") == 1


def test_redis_down_is_reported_and_the_rest_still_served(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    text = _scrape(client)
    assert _value(text, "palm_redis_up") == 0
    assert _value(text, "palm_outbox_jobs", status="pending") == 0


def test_sms_statuses(app, client):
    for n in range(2):
        queue_sms(f"1390000000{n}", "login_code", {"code": "123456"}, key=f"ops-{n}")
    db.session.commit()
    text = _scrape(client)
    queued = _value(text, "palm_sms_messages", status="queued") or 0
    delivered_or_sending = sum(_value(text, "palm_sms_messages", status=s) or 0
                               for s in ("sending", "delivered"))
    assert queued + delivered_or_sending == 2
    assert _value(text, "palm_sms_messages", status="permanent-failure") == 0
    assert "13900000000" not in text


# -- gunicorn: several workers add up, and every line is JSON ------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_workers_add_up_and_log_json(app, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": "x" * 40, "LOG_FORMAT": "json", "GUNICORN_WORKERS": "2",
           "GUNICORN_BIND": f"127.0.0.1:{port}", "INSTANCE_PATH": str(tmp_path),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    env.pop("APP_ENV", None)
    if TEST_REDIS:
        env["REDIS_URL"] = TEST_REDIS
    else:
        env.pop("REDIS_URL", None)
    log = tmp_path / "gunicorn.log"
    sent = 0
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        # Deadlines, not counts of tries: on a busy machine gunicorn and its second worker take
        # longer to boot, and the test must wait for them rather than fail.
        deadline = time.monotonic() + 90
        try:
            url = f"http://127.0.0.1:{port}"
            while True:
                try:
                    requests.get(f"{url}/offline", timeout=30)
                    sent += 1
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.1)
            # Requests at once until both workers have served some (the second may boot later).
            while True:
                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(lambda n: requests.get(
                        f"{url}/offline?phone=13800138000", timeout=30,
                        headers={"X-Request-ID": f"ops-test-request-{n:04d}"}), range(20)))
                sent += 20
                if len(_pids(log)) == 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            text = requests.get(f"{url}/metrics", timeout=30).text
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
    labels = {"endpoint": "pages.offline", "method": "GET", "status": "200"}
    assert len(_pids(log)) == 2
    assert _value(text, "palm_request_duration_seconds_count", **labels) == sent
    entries = [json.loads(line) for line in log.read_text().splitlines()]  # all JSON
    assert any(e["logger"] == "gunicorn.error" for e in entries)
    served = [e for e in entries if e["logger"] == "app.request" and e["path"] == "/offline"]
    assert len(served) == sent
    assert {f"ops-test-request-{n:04d}" for n in range(20)} <= {e["request_id"] for e in served}
    assert "13800138000" not in log.read_text()


def _pids(log: Path) -> set[int]:
    """The gunicorn workers that have logged a request so far."""
    pids = set()
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # a line still being written
            continue
        if entry.get("logger") == "app.request":
            pids.add(entry["pid"])
    return pids


def test_limits_switched_off_leave_pages_working():
    """RATELIMIT_ENABLED=False (benchmarks, a staging copy) leaves Flask-Limiter without storage:
    the check for a Redis outage must not take that for one, nor fail the request. In a process
    of its own: the limiter is one object per process, and this session's app has set it up."""
    script = (
        "from app.factory import create_app\n"
        "app = create_app({'TESTING': False, 'PROPAGATE_EXCEPTIONS': False, 'SECRET_KEY': 'x',"
        " 'SQLALCHEMY_DATABASE_URI': 'sqlite://', 'RATELIMIT_ENABLED': False})\n"
        "print(app.test_client().get('/offline').status_code)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.stdout.strip().splitlines()[-1:] == ["200"], done.stderr[-2000:]
