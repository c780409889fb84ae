"""SMS throughput: two real `flask worker` processes send through the fake Aliyun API on loopback.

Run from the repo root: .venv/bin/python bench/sms_throughput.py [--fork] [--messages 5000]
[--steady 3000 --rate 300 --producers 3 --chunk 10]. Redis db 8, PostgreSQL palm_bench_sms.

Two measurements, because the machine (2 shared cores) runs the producers, both workers,
PostgreSQL, Redis and the fake provider at once:
- burst: 5,000 messages created through queue_sms() in one transaction (a reminder run) and
  pushed at once; messages/s is how fast the two workers move them to `sending` (their capacity);
- steady: messages created through queue_sms() at a steady rate by --producers processes (the web
  app's workers), --chunk per transaction, pushed after each commit as the web app does; p99 is
  from creation to `sending`.
Target: at least 300 messages/s (burst) and p99 under 2 s (steady); and every message reaches the
fake provider exactly once.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402
from redis import Redis  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB = "palm_bench_sms"
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/8")
TARGET_RATE, TARGET_P99 = 300, 2.0
DB_URL = f"{PG}/{DB}".replace("postgresql://", "postgresql+psycopg://")


def fresh_database() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def settings(fake_url: str) -> dict:
    """What the workers and this producer share."""
    from fakes.aliyun_sms import ACCESS_KEY_ID, ACCESS_KEY_SECRET, provider_settings

    return {"DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": "bench",
            "SMS_BACKEND": "aliyun", "ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET, "QUIET_HOURS": "0-0",
            "FLASK_DEBUG": "0", "OUTBOX_SWEEP_SECONDS": "5", **provider_settings(fake_url)}


def start_fake() -> tuple[subprocess.Popen, str]:
    """The fake Aliyun API in its own process, so it does not share this one's GIL."""
    proc = subprocess.Popen([sys.executable, "-m", "fakes.aliyun_sms"], cwd=ROOT / "tests",
                            stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        sys.exit(f"the fake provider did not start: {url!r}")
    return proc, url


def start_workers(env: dict, count: int, fork: bool) -> list[subprocess.Popen]:
    flask = str(Path(sys.executable).with_name("flask"))
    full = {**os.environ, "FLASK_APP": "wsgi.py", **env}
    command = [flask, "worker", "--fork" if fork else "--no-fork"]
    return [subprocess.Popen(command, cwd=ROOT, env=full, stdout=subprocess.DEVNULL,
                             stderr=open(f"/tmp/sms-bench-worker-{n}.log", "w"),
                             start_new_session=True) for n in range(count)]


def wait_for_workers(count: int) -> None:
    from rq import Worker

    deadline = time.monotonic() + 60
    while len(Worker.all(connection=Redis.from_url(REDIS_URL))) < count:
        if time.monotonic() > deadline:
            sys.exit("the workers did not start; see /tmp/sms-bench-worker-*.log")
        time.sleep(0.2)


def produce(part: int, parts: int, total: int, rate: float, chunk: int, start: float) -> None:
    """One web process's share: create messages at rate/parts, `chunk` per transaction."""
    from app import jobs
    from app.extensions import db
    from app.factory import create_app
    from app.sms.services import queue_sms

    app = create_app({"SQLALCHEMY_DATABASE_URI": DB_URL, "TESTING": False})
    mine = list(range(part, total, parts))
    with app.app_context():
        for first in range(0, len(mine), chunk):
            due = start + first / (rate / parts)
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            with app.app_context():  # one request's worth: commit, then push after it
                for n in mine[first:first + chunk]:
                    queue_sms(f"139{n:08d}", "rating_reply",
                              {"link": f"https://zwfw.example.cn/t/{n:014d}"}, key=f"bench-{n}")
                db.session.commit()
                jobs.flush()


def produce_all(total: int, rate: float, chunk: int, parts: int) -> float:
    """Several producer processes, like the web app's gunicorn workers; the seconds it took."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    start = time.monotonic() + 0.5
    procs = [context.Process(target=produce, args=(n, parts, total, rate, chunk, start))
             for n in range(parts)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    if any(proc.exitcode for proc in procs):
        sys.exit("a producer failed")
    return time.monotonic() - start


def burst(app, total: int) -> float:
    """A reminder run: `total` messages in one transaction, pushed at once; the commit time."""
    from flask import g

    from app import jobs
    from app.extensions import db
    from app.sms.services import queue_sms

    with app.app_context():
        for n in range(total):
            queue_sms(f"138{n:08d}", "rating_reply",
                      {"link": f"https://zwfw.example.cn/t/{n:014d}"}, key=f"burst-{n}")
        db.session.commit()  # from here on the workers' sweeps may push them too
        committed_at = time.time()
        ids = g.pop("outbox_ready", [])
        for first in range(0, len(ids), 500):
            jobs.push(ids[first:first + 500])
    return committed_at


def wait_until_claimed(app, prefix: str, total: int, timeout: float) -> None:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.sms.models import SmsMessage

    deadline = time.monotonic() + timeout
    with app.app_context():
        while True:
            left = db.session.scalar(select(func.count()).select_from(SmsMessage).where(
                SmsMessage.phone.like(f"{prefix}%"), SmsMessage.sending_at.is_(None)))
            db.session.rollback()
            if not left:
                return
            if time.monotonic() > deadline:
                sys.exit(f"{left} of {total} messages were never claimed within {timeout:.0f} s")
            time.sleep(0.1)


def measure(app, prefix: str, since: datetime | None = None) -> dict:
    """Rate over the whole span, and latency to `sending` from creation (or from `since`)."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.sms.models import SmsMessage

    with app.app_context():
        rows = db.session.execute(select(SmsMessage.created_at, SmsMessage.sending_at).where(
            SmsMessage.phone.like(f"{prefix}%"))).all()
        statuses = dict(db.session.execute(select(SmsMessage.status, func.count()).where(
            SmsMessage.phone.like(f"{prefix}%")).group_by(SmsMessage.status)).all())
    latencies = sorted((s - (since or c)).total_seconds() for c, s in rows)
    start = since or min(c for c, _ in rows)
    span = (max(s for _, s in rows) - start).total_seconds()
    return {"rate": len(rows) / span, "p50": statistics.median(latencies),
            "p99": latencies[int(len(latencies) * 0.99) - 1], "statuses": statuses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="committed at once")
    parser.add_argument("--steady", type=int, default=3000, help="then created at --rate")
    parser.add_argument("--rate", type=float, default=300, help="messages created per second")
    parser.add_argument("--chunk", type=int, default=10, help="messages per transaction")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--producers", type=int, default=3, help="web processes creating them")
    parser.add_argument("--fork", action=argparse.BooleanOptionalAction, default=False,
                        help="workers fork a horse per job (flask worker --fork)")
    args = parser.parse_args()

    fresh_database()
    Redis.from_url(REDIS_URL).flushdb()
    fake, fake_url = start_fake()
    env = settings(fake_url)
    os.environ.update(env)
    from flask_migrate import upgrade

    from app.factory import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": DB_URL, "TESTING": False})
    with app.app_context():
        upgrade(revision="heads")
    workers = start_workers(env, args.workers, args.fork)
    try:
        wait_for_workers(args.workers)
        mode = "--fork" if args.fork else "--no-fork"
        print(f"{args.workers} workers ({mode}), fake Aliyun at {fake_url}", flush=True)
        committed_at = burst(app, args.messages)
        wait_until_claimed(app, "138", args.messages, timeout=120)
        burst_figures = measure(app, "138", since=datetime.fromtimestamp(
            committed_at, UTC).replace(tzinfo=None))
        print(f"burst: {args.messages} messages committed at once: "
              f"{burst_figures['rate']:.0f} messages/s, commit → sending p50 "
              f"{burst_figures['p50'] * 1000:.0f} ms, p99 {burst_figures['p99'] * 1000:.0f} ms; "
              f"{burst_figures['statuses']}", flush=True)
        took = produce_all(args.steady, args.rate, args.chunk, args.producers)
        wait_until_claimed(app, "139", args.steady, timeout=120)
        steady = measure(app, "139")
        from fakes.aliyun_sms import sent_count

        sent = sent_count(fake_url)
    finally:
        for proc in workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in workers:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        fake.terminate()
        fake.wait(10)
    print(f"steady: {args.steady} messages created at {args.steady / took:.0f}/s (asked "
          f"{args.rate:.0f}/s, {args.producers} processes, {args.chunk} per transaction): "
          f"{steady['rate']:.0f} messages/s, creation → sending p50 {steady['p50'] * 1000:.0f} ms,"
          f" p99 {steady['p99'] * 1000:.0f} ms; {steady['statuses']}")
    total = args.messages + args.steady
    print(f"the fake provider accepted {sent} messages for {total} created")
    ok = (burst_figures["rate"] >= TARGET_RATE and steady["p99"] < TARGET_P99
          and sent == total)
    print(f"SUMMARY sms_throughput: {burst_figures['rate']:.0f} messages/s for {args.messages} "
          f"committed at once (target ≥ {TARGET_RATE}), p99 creation→sending {steady['p99']:.2f} s "
          f"at {args.steady / took:.0f} messages/s created (target < {TARGET_P99:.0f} s), "
          f"{args.workers} workers, each message sent once: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
