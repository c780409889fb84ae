"""Ratings figures at scale: 100,000 ratings over a year in PostgreSQL, then the dashboard and the
CSV export for one hall and for all halls, through the Flask test client.

Run from the repo root: .venv/bin/python bench/ratings.py
Target: the dashboard for a year of one hall renders in under 150 ms (median).
"""

import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB = "palm_bench_ratings"
HALLS, WINDOWS, ITEMS, CLERKS, CITIZENS = 5, 6, 24, 8, 3000
RATINGS = 100_000
UNRATED_SHARE = 0.2
TARGET_MS = 150
RUNS = 15


def fresh_database() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def make_app():
    from app.factory import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"{PG}/{DB}".replace(
        "postgresql://", "postgresql+psycopg://"), "REDIS_URL": None, "TESTING": False,
        "DEBUG": False, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})


def seed(app) -> dict:
    """Catalog and people through the ORM (small), then invites, ratings and cases by COPY."""
    from flask_migrate import upgrade

    from app.auth.models import User
    from app.catalog.models import Hall, ServiceItem, Window
    from app.extensions import db

    with app.app_context():
        upgrade(revision="heads")
        halls = [Hall(name=f"压测大厅{h}", short_name=f"大厅{h}", address="压测路", phone="0482-1",
                      hours="工作日") for h in range(HALLS)]
        db.session.add_all(halls)
        db.session.flush()
        windows = [Window(hall_id=h.id, code=f"A{w:02d}", name=f"窗口{w}")
                   for h in halls for w in range(WINDOWS)]
        items = [ServiceItem(code=f"B-{i}", name=f"压测事项{i}", department=f"部门{i % 6}",
                             topic="压测") for i in range(ITEMS)]
        clerks = [User(username=f"c{h.id}-{n}", role="clerk", name=f"工作人员{h.id}-{n}",
                       hall_id=h.id) for h in halls for n in range(CLERKS)]
        admin = User(username="hall-admin", role="admin", name="大厅管理员", hall_id=halls[0].id)
        city = User(username="city-admin", role="admin", name="市级管理员")
        citizens = [User(phone=f"139{n:08d}", role="citizen") for n in range(CITIZENS)]
        db.session.add_all(windows + items + clerks + [admin, city] + citizens)
        db.session.commit()
        return {"halls": [h.id for h in halls],
                "windows": {h.id: [w.id for w in windows if w.hall_id == h.id] for h in halls},
                "clerks": {h.id: [c.id for c in clerks if c.hall_id == h.id] for h in halls},
                "items": [(i.id, i.department) for i in items],
                "citizens": [c.id for c in citizens], "admin": admin.id, "city": city.id}


def bulk_load(ids: dict) -> tuple[int, int, int, float]:
    """COPY a year of invites, their ratings and the bad ratings' cases."""
    rand = random.Random(7)
    today = date.today()
    invites_n = int(RATINGS / (1 - UNRATED_SHARE))
    started = time.perf_counter()
    inv_rows, rating_rows, case_rows = [], [], []
    rating_id = case_id = 0
    for n in range(1, invites_n + 1):
        hall = rand.choice(ids["halls"])
        day = today - timedelta(days=rand.randint(0, 364))
        served = datetime.combine(day, datetime.min.time()) + timedelta(hours=rand.randint(1, 8))
        item_id, dept = rand.choice(ids["items"])
        rated = rating_id < RATINGS and rand.random() > UNRATED_SHARE * 0.98
        invite = [n, "onsite", "booking", n, rand.choice(ids["citizens"]), hall, item_id,
                  rand.choice(ids["windows"][hall]), rand.choice(ids["clerks"][hall]), dept,
                  served, day, served + timedelta(days=7),
                  served + timedelta(hours=1) if rated else None, served,
                  None, None, False, None, None, None, False, False, None]
        inv_rows.append(invite)
        if not rated:
            continue
        rating_id += 1
        score = rand.choices([5, 4, 3, 2, 1], weights=[62, 20, 8, 6, 4])[0]
        source = rand.choice(["sms", "sms", "qr", "app"])
        excluded = rand.random() < 0.01
        rating_rows.append((rating_id, n, score, "{}", source, source != "sms",
                            None if score >= 3 else "slow", None, excluded,
                            served + timedelta(hours=1)))
        invite[15:18] = [score, source != "sms", excluded]
        if score <= 2:
            case_id += 1
            created = served + timedelta(hours=1)
            done = day < today - timedelta(days=20)
            status = rand.choice(["verified", "verified", "explained"]) if done else rand.choice(
                ["open", "contacted", "rectified"])
            due = None if done else created + timedelta(days=rand.randint(-2, 20))
            overdue = created + timedelta(days=2) if rand.random() < 0.05 else None
            replied = created + timedelta(hours=20) if status != "open" else None
            verified = created + timedelta(days=5) if status == "verified" else None
            satisfied = (rand.random() < 0.9) if status == "verified" else None
            outcome = rand.choice([None, 4, 5, 2]) if status == "verified" else None
            case_rows.append((
                case_id, rating_id, hall, dept, status, due, overdue, replied,
                created + timedelta(days=3) if status in ("rectified", "verified") else None,
                verified, satisfied, outcome, created, created))
            invite[18:24] = [status, due, overdue, replied is not None, verified is not None,
                             (outcome >= 3) if outcome is not None else satisfied]
    with psycopg.connect(f"{PG}/{DB}") as conn, conn.cursor() as cur:
        for table, cols, rows in [
            ("rating_invite", "id, channel, entity, entity_id, citizen_id, hall_id, item_id, "
             "window_id, clerk_id, department, served_at, served_day, closes_at, rated_at, "
             "created_at, score, self_initiated, excluded, case_status, case_due_at, "
             "case_overdue_at, case_replied, case_verified, case_outcome_good", inv_rows),
            ("rating", "id, invite_id, score, scores, source, self_initiated, reason, "
             "reason_text, excluded, created_at", rating_rows),
            ("rectification", "id, rating_id, hall_id, department, status, due_at, overdue_at, "
             "replied_at, rectified_at, verified_at, follow_up_satisfied, outcome_score, "
             "created_at, updated_at", case_rows),
        ]:
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        for table in ("rating_invite", "rating", "rectification"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE rating_invite; ANALYZE rating; ANALYZE rectification")
    return len(inv_rows), len(rating_rows), len(case_rows), time.perf_counter() - started


def timed(client, url: str) -> tuple[float, float, int]:
    """Median and p95 ms over RUNS requests after two warm-ups."""
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(response.data)


def signed_in(app, user_id: int):
    from app.auth.models import User
    from app.auth.sessions import issue
    from app.extensions import db

    client = app.test_client()
    with app.app_context():
        value = issue(db.session.get(User, user_id))  # a real sign-in (app/auth/sessions.py)
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = value
        session["_fresh"] = True
    return client


def main() -> int:
    fresh_database()
    app = make_app()
    ids = seed(app)
    invites, ratings, cases, seconds = bulk_load(ids)
    print(f"loaded {invites} invites, {ratings} ratings, {cases} cases in {seconds:.1f} s")
    today = date.today()
    year = f"from={today - timedelta(days=364)}&to={today}"
    hall_admin, city_admin = signed_in(app, ids["admin"]), signed_in(app, ids["city"])
    results = {}
    for label, client, url in [
        ("dashboard, one hall, a year", hall_admin, f"/ratings/dashboard?{year}"),
        ("dashboard, all halls, a year", city_admin, f"/ratings/dashboard?{year}"),
        ("dashboard, one hall, 30 days", hall_admin, "/ratings/dashboard"),
        ("CSV by day, one hall, a year", hall_admin, f"/ratings/dashboard.csv?by=day&{year}"),
        ("CSV by day, all halls, a year", city_admin, f"/ratings/dashboard.csv?by=day&{year}"),
        ("CSV by clerk, all halls, a year", city_admin,
         f"/ratings/dashboard.csv?by=clerk&{year}"),
        ("public page, one hall", hall_admin, f"/halls/{ids['halls'][0]}/ratings"),
    ]:
        median, p95, size = timed(client, url)
        results[label] = median
        print(f"{label:34s} median {median:7.1f} ms   p95 {p95:7.1f} ms   {size / 1024:6.1f} KB")
    key = "dashboard, one hall, a year"
    ok = results[key] < TARGET_MS
    print(f"SUMMARY ratings: {ratings} ratings; one-hall year dashboard {results[key]:.0f} ms "
          f"(target < {TARGET_MS} ms), all halls {results['dashboard, all halls, a year']:.0f} ms, "
          f"CSV one hall {results['CSV by day, one hall, a year']:.0f} ms, all halls "
          f"{results['CSV by day, all halls, a year']:.0f} ms: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
