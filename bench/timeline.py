"""Progress pages under load: a signed-in citizen with 50 past matters, on PostgreSQL.

Run from the repo root: .venv/bin/python bench/timeline.py [--seconds N]

Same method as bench/pages.py (whose gunicorn starter and asyncio load generator it uses): gunicorn
with 2 sync workers on a fresh `palm_bench_progress` database, 50 concurrent keep-alive
connections, req/s, p50 and p99 per page. The matters are a bench-only matter kind ("benchcase",
a table of this database, registered by `bench_app()` in each worker the way bookings and
applications register theirs), each with 8 public timeline steps and 2 staff-only audit rows,
among 2,000 other people's matters (20,000 audit rows). The citizen signs in through the real
SMS-code pages.

Target (issue 6): p99 under 100 ms at 50 concurrent connections for the timeline (the other pages
are printed for reference: 我的办件 itself, and /offline, the app shell without a database, which
shows what the machine can do at that moment). Exits 1 if the timeline misses it.
"""

import argparse
import asyncio
import http.cookiejar
import json
import os
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB = "palm_bench_progress"
MAX_P99_MS = 100
PHONE = "13800138000"
UA = "palm-bench/1.0"
MATTERS, STEPS, OTHERS = 50, 8, 2000

BENCH_TABLE = """CREATE TABLE IF NOT EXISTS bench_matter (
    id integer PRIMARY KEY, number varchar(24) UNIQUE NOT NULL, title varchar(80) NOT NULL,
    citizen_id integer NOT NULL, phone varchar(20) NOT NULL, status_label varchar(20) NOT NULL,
    status_tone varchar(10) NOT NULL, created_at timestamp NOT NULL, completed boolean NOT NULL);
CREATE INDEX IF NOT EXISTS ix_bench_matter_citizen ON bench_matter (citizen_id, created_at)"""


def bench_app():
    """The app for gunicorn, with the bench matter kind registered (a table, read as real ones)."""
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.progress.registry import MatterSummary, register_matter_kind

    columns = ("id, number, title, citizen_id, phone, status_label, status_tone, created_at, "
               "completed")

    def summary(row) -> MatterSummary | None:
        if row is None:
            return None
        m = row._mapping
        return MatterSummary(
            kind="benchcase", id=m["id"], number=m["number"], title=m["title"],
            status_label=m["status_label"], status_tone=m["status_tone"],
            citizen_id=m["citizen_id"], phone=m["phone"], created_at=m["created_at"],
            next_step="请留意短信通知。", contact_phone="0482-8260000", hall_name="政务服务中心",
            completed=m["completed"])

    def one(where: str, **params):
        return summary(db.session.execute(
            text(f"SELECT {columns} FROM bench_matter WHERE {where}"), params).first())

    register_matter_kind(
        kind="benchcase", label="压测办件",
        list_for_user=lambda uid: [summary(r) for r in db.session.execute(text(
            f"SELECT {columns} FROM bench_matter WHERE citizen_id = :u ORDER BY created_at DESC"),
            {"u": uid})],
        get=lambda entity_id: one("id = :i", i=entity_id),
        find_by_number=lambda number: one("number = :n", n=number))
    return create_app()


def fresh_database() -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    return f"{PG}/{DB}"


def app_env(database: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_DEBUG")}
    env |= {"DATABASE_URL": database, "FLASK_APP": "wsgi.py", "FLASK_DEBUG": "0",
            "SECRET_KEY": "bench-progress", "APP_ENV": "development", "QUIET_HOURS": "0-0",
            "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}
    return env


def seed(database: str) -> None:
    """Schema by the migrations, then the citizen's 50 matters among 2,000 others."""
    import subprocess

    import psycopg

    subprocess.run([str(ROOT / ".venv/bin/flask"), "db", "upgrade", "heads"], cwd=ROOT,
                   env=app_env(database), check=True, capture_output=True)
    now = datetime.now(UTC).replace(tzinfo=None)
    with psycopg.connect(database) as conn:
        for statement in BENCH_TABLE.split(";"):
            conn.execute(statement)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO \"user\" (phone, role, active, failed_logins, created_at) "
                        "VALUES (%s, 'citizen', true, 0, %s) RETURNING id", (PHONE, now))
            me = cur.fetchone()[0]
            matters, audits = [], []
            for n in range(MATTERS + OTHERS):
                created = now - timedelta(days=n % 400, minutes=n)
                matters.append((n + 1, f"WLHT2026{n:010d}", f"示例事项{n % 40}号登记",
                                me if n < MATTERS else 0, PHONE, "已办结", "success",
                                created, n % 3 == 0))
                for s in range(STEPS):
                    audits.append(("benchcase", n + 1, f"s{s}", None, f"第 {s + 1} 步:材料已审核,"
                                   "正在办理,请留意短信。", created + timedelta(hours=s)))
                for s in range(2):
                    audits.append(("benchcase", n + 1, f"internal{s}", "内部备注", None,
                                   created + timedelta(hours=s, minutes=30)))
            cur.executemany(
                "INSERT INTO bench_matter (id, number, title, citizen_id, phone, status_label, "
                "status_tone, created_at, completed) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", matters)
            cur.executemany(
                "INSERT INTO audit_log (entity, entity_id, to_status, note, public_note, "
                "created_at) VALUES (%s,%s,%s,%s,%s,%s)", audits)
        conn.commit()
        conn.execute("ANALYZE")


def sign_in(port: int, database: str) -> str:
    """The session cookie of the citizen, signed in through the real pages."""
    import psycopg

    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", UA)]
    page = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    opener.open(base + "/login/code", urllib.parse.urlencode(
        {"csrf_token": token, "phone": PHONE}).encode())
    with psycopg.connect(database) as conn:
        params = conn.execute("SELECT params FROM sms_message WHERE phone = %s ORDER BY id DESC "
                              "LIMIT 1", (PHONE,)).fetchone()[0]
    code = (params if isinstance(params, dict) else json.loads(params))["code"]
    opener.open(base + "/login/verify", urllib.parse.urlencode(
        {"csrf_token": token, "code": code}).encode())
    cookie = next(c for c in jar if c.name == "session")
    check = opener.open(base + "/progress/mine").read().decode()
    assert check.count('class="row-link"') == MATTERS, "sign-in or seeding failed"
    return f"session={cookie.value}"


def main() -> int:
    from pages import Page, _drive, free_port, start_gunicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per page")
    args = parser.parse_args()
    database = fresh_database()
    started = time.perf_counter()
    seed(database)
    rows = (MATTERS + OTHERS) * (STEPS + 2)
    print(f"seeded {MATTERS} matters for the citizen among {OTHERS} others ({rows} audit rows) "
          f"in {time.perf_counter() - started:.1f} s")
    port = free_port()
    server = start_gunicorn("timeline:bench_app()", port, ROOT, app_env(database))
    try:
        cookie = sign_in(port, database)
        headers = (("Cookie", cookie), ("User-Agent", UA))
        pages = [Page(f"timeline (1 of {MATTERS} matters, {STEPS} steps)",
                      "/progress/benchcase/7", headers=headers),
                 Page(f"我的办件 ({MATTERS} matters, reference)", "/progress/mine",
                      headers=headers, target=False),
                 Page("lookup form (anonymous)", "/progress/lookup", target=False),
                 Page("app shell /offline (no database, reference)", "/offline", target=False)]
        print(f"2 sync workers, 50 connections, {args.seconds:g} s per page; "
              f"{os.cpu_count()} CPUs shared with the load generator")
        print(f"{'page':42} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}  verdict")
        failures, worst, shell = [], 0.0, 0.0
        for page in pages:
            latencies, elapsed = asyncio.run(_drive(port, page, args.seconds, 1.0))
            latencies.sort()
            rps = len(latencies) / elapsed
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
            ok = p99 < MAX_P99_MS
            if page.path == "/offline":
                shell = p99
            if page.target:
                worst = max(worst, p99)
                if not ok:
                    failures.append(page.name)
            verdict = "-" if not page.target else ("ok" if ok else "MISSED")
            print(f"{page.name:42} {rps:8.0f} {p50:7.1f} {p99:7.1f}  {verdict}")
        print(f"\nSUMMARY: timeline of a citizen with {MATTERS} matters, p99 "
              f"{worst:.1f} ms (target <{MAX_P99_MS} ms; the app shell without a database: "
              f"{shell:.1f} ms): "
              f"{'PASS' if not failures else 'FAIL: ' + ', '.join(failures)}")
        return 1 if failures else 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
