"""Booking race: 200 signed-in citizens book one slot with 5 places at the same moment, over HTTP.

The app runs under gunicorn (2 sync workers), first on PostgreSQL (database palm_bench_booking),
then on SQLite. Each citizen has their own session cookie (minted with the app's secret, the way
Flask-Login and Flask-WTF write it) and their own confirm-form key. Printed per database: places
taken, overbooked (bookings beyond capacity, and whether the slot's counter agrees), attempts per
second over the whole burst, and the p99 response time.

Run from the repo root: .venv/bin/python bench/booking_race.py
Target: overbooked=0 on both databases, every run; >= 200 attempts/s on PostgreSQL.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
PG_DB = "palm_bench_booking"
PEOPLE, CAPACITY, WORKERS = 200, 5, 2
TARGET_PG_RATE = 200
SECRET = "bench-booking-secret"
UA = "palm-bench/1.0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_pg() -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    return f"{PG}/{PG_DB}"


def prepare(url: str) -> tuple[int, list[tuple[str, str]]]:
    """Schema, a hall and an item open every day, tomorrow's slot, and 200 signed-in citizens."""
    from datetime import time as clock

    from flask import session
    from flask_migrate import upgrade
    from flask_wtf.csrf import generate_csrf

    from app.auth import consent, sessions
    from app.auth.models import User
    from app.booking import opening, services
    from app.booking.models import SlotRule
    from app.catalog.models import Hall, ServiceItem, Window
    from app.config import database_url
    from app.extensions import db
    from app.factory import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(url), "SECRET_KEY": SECRET,
                      "REDIS_URL": None, "TESTING": False, "DEBUG": False})
    with app.app_context():
        upgrade(revision="heads")
        hall = Hall(name="压测大厅", short_name="压测大厅", address="压测路 1 号", phone="0482-1",
                    hours="每天")
        db.session.add(hall)
        db.session.flush()
        db.session.add(Window(hall_id=hall.id, code="A01", name="综合窗口", group="A"))
        item = ServiceItem(code="RACE-1", name="压测事项", department="压测局", topic="压测")
        item.halls = [hall]
        db.session.add(item)
        db.session.flush()
        db.session.add_all([SlotRule(hall_id=hall.id, item_id=item.id, weekday=d,
                                     start=clock(9), end=clock(9, 30), slot_minutes=30,
                                     capacity=CAPACITY) for d in range(7)])
        people = [User(phone=f"136{n:08d}", role="citizen") for n in range(PEOPLE)]
        db.session.add_all(people)
        db.session.commit()
        with app.test_request_context():
            slot = opening.ensure_slots(hall.id, item.id,
                                         services.local_today() + timedelta(days=1))[0]
        slot_id = slot.id
        serializer = app.session_interface.get_signing_serializer(app)
        cookies = []
        for user_id in [person.id for person in people]:
            # A fresh app context each: Flask-Login keeps the signed-in user in `g`, and the
            # next start() would end the previous person's sign-in as "this browser's".
            with app.app_context(), app.test_request_context(headers={"User-Agent": UA}):
                consent.agree_at_sign_in(user_id)  # as the sign-in page's box records it
                sessions.start(db.session.get(User, user_id))
                consent.remember_signed_in_agreement()
                token = generate_csrf()
                cookies.append((serializer.dumps(dict(session)), token))
        db.engine.dispose()
    return slot_id, cookies


def start_gunicorn(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "FLASK_DEBUG": "0",
           "REDIS_URL": "", "SMS_BACKEND": "console"}
    env.pop("REDIS_URL")
    log = tempfile.TemporaryFile()  # a pipe nobody reads fills up with request lines and blocks
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(WORKERS), "-k", "sync", "-b",
         f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return proc
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None:
                log.seek(0)
                sys.exit(f"gunicorn exited: {log.read().decode()[-2000:]}")
            time.sleep(0.2)
    proc.terminate()
    sys.exit("gunicorn did not start")


def fire(port: int, slot_id: int, cookies: list[tuple[str, str]]) -> tuple[list, list, float]:
    """All requests at once from one asyncio loop (a light client, so the two CPUs go to the
    server): raw HTTP/1.1 POSTs prepared in advance; statuses, latencies and wall time."""
    import asyncio

    requests = []
    for n, (cookie, token) in enumerate(cookies):
        body = urllib.parse.urlencode({"idem": f"race-{n}", "csrf_token": token}).encode()
        head = (f"POST /book/slot/{slot_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"User-Agent: {UA}\r\nCookie: session={cookie}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        requests.append(head + body)
    statuses: list = [None] * len(requests)
    latencies = [0.0] * len(requests)
    bodies: list[str] = []

    async def one(n: int, start: asyncio.Event):
        await start.wait()
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(requests[n])
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), timeout=60)
            writer.close()
            statuses[n] = int(answer.split(b" ", 2)[1])
            if statuses[n] not in (303, 409) and not bodies:
                bodies.append(answer.decode(errors="replace"))
        except (OSError, asyncio.TimeoutError, ValueError, IndexError) as err:
            statuses[n] = f"error {err}"
        latencies[n] = time.perf_counter() - started

    async def main() -> float:
        start = asyncio.Event()
        tasks = [asyncio.create_task(one(n, start)) for n in range(len(requests))]
        await asyncio.sleep(0.1)  # every task waiting at the line
        began = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        return time.perf_counter() - began

    wall = asyncio.run(main())
    if bodies:
        import re

        text = re.sub(r"<[^>]+>", " ", bodies[0])
        print("  first unexpected answer:", " ".join(text.split())[:300])
    return statuses, latencies, wall


def count(url: str, slot_id: int) -> tuple[int, int, int]:
    """Bookings for the slot, the slot's own counter, and its capacity, read back directly."""
    from sqlalchemy import create_engine, text

    from app.config import database_url

    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM booking WHERE slot_id = :s "
                                 "AND status = 'booked'"), {"s": slot_id}).scalar()
        booked, capacity = conn.execute(text("SELECT booked, capacity FROM slot WHERE id = :s"),
                                        {"s": slot_id}).one()
    engine.dispose()
    return rows, booked, capacity


def run(name: str, url: str) -> dict:
    slot_id, cookies = prepare(url)
    port = free_port()
    proc = start_gunicorn(url, port)
    try:
        statuses, latencies, wall = fire(port, slot_id, cookies)
    finally:
        proc.terminate()
        proc.wait(10)
    rows, booked, capacity = count(url, slot_id)
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    result = {"db": name, "taken": rows, "counter": booked, "capacity": capacity,
              "overbooked": max(0, rows - capacity) + (rows != booked),
              "ok": statuses.count(303), "full": statuses.count(409),
              "other": len(statuses) - statuses.count(303) - statuses.count(409),
              "rate": len(statuses) / wall, "p99": p99}
    print(f"{name:10s} places taken={rows}/{capacity} (slot counter {booked}) "
          f"overbooked={result['overbooked']} booked(303)={result['ok']} full(409)="
          f"{result['full']} other={result['other']} attempts/s={result['rate']:.0f} "
          f"p99={p99:.0f}ms (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
          flush=True)
    if result["other"]:
        print(f"  unexpected statuses: {sorted({str(s) for s in statuses} - {'303', '409'})}")
    return result


def main() -> None:
    results = [run("PostgreSQL", fresh_pg())]
    with tempfile.TemporaryDirectory(prefix="palm-bench-booking-") as tmp:
        results.append(run("SQLite", f"sqlite:///{tmp}/bench.db"))
    pg, lite = results
    ok = (all(r["overbooked"] == 0 and r["taken"] == CAPACITY and r["other"] == 0
              for r in results) and pg["rate"] >= TARGET_PG_RATE)
    print(f"SUMMARY booking_race: PostgreSQL overbooked={pg['overbooked']} "
          f"attempts/s={pg['rate']:.0f} p99={pg['p99']:.0f}ms; SQLite overbooked="
          f"{lite['overbooked']} attempts/s={lite['rate']:.0f} p99={lite['p99']:.0f}ms; "
          f"target overbooked=0 and >= {TARGET_PG_RATE}/s on PostgreSQL: "
          f"{'MET' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
