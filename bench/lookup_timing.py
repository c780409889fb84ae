"""Lookups take the same time for a number (or username) that exists and one that does not.

Run from the repo root: .venv/bin/python bench/lookup_timing.py [--rounds 150] [--embedded-only]

Both modes of the app: the embedded one (SQLite, jobs inline, limits in memory) and the real
one (PostgreSQL database palm_bench_lookup at BENCH_PG, Redis at BENCH_REDIS, default db 12).
In each, rounds alternate between a known and an unknown number and time, in the app, until
the answer is ready (what a person measuring from outside sees, less the network):
- 一号查询 step 1: POST /progress/lookup (send a code to the phone on file);
- 一号查询 step 2: POST /progress/lookup/code with a wrong code;
- staff sign-in: POST /staff/login with a wrong password, for a username that exists or not.
The baseline, in the same run, is step 1 as it was before (the code's job run inline in the
request without Redis). Target: every median of a known case within 25% of the unknown one's.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB = "palm_bench_lookup"
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12")
UNKNOWN = "WLHT20990101000999"
TOLERANCE = 0.25


def make_app(real: bool):
    from app.factory import create_app

    if real:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB}")
        from redis import Redis

        Redis.from_url(REDIS_URL).flushdb()
        uri, redis = f"{PG}/{DB}".replace("postgresql://", "postgresql+psycopg://"), REDIS_URL
    else:
        uri, redis = f"sqlite:///{tempfile.mkdtemp(prefix='palm-bench-')}/bench.db", None
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "REDIS_URL": redis, "TESTING": False,
                      "DEBUG": False, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False, "STAFF_LOCKOUT_FAILURES": 10**6,
                      "SMS_BACKEND": "console", "QUIET_HOURS": "0-0"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
    return app


def seed(app) -> str:
    """A citizen with one matter (the progress test kind), and a staff account."""
    import factories

    with app.app_context():
        matters = factories.FakeMatters("benchcase").register()
        matter = matters.add(factories.citizen("13800138000"))
        factories.staff("clerk1", "secret-pass-1")
        return matter.number


def timed(client, path: str, data: dict) -> float:
    """Milliseconds until the answer is ready; then it is closed (what runs after, runs)."""
    started = time.perf_counter()
    response = client.post(path, data=data)
    response.get_data()
    elapsed = (time.perf_counter() - started) * 1000
    response.close()
    assert response.status_code in (303, 400), (path, response.status_code)
    return elapsed


def compare(name: str, known: list[float], unknown: list[float]) -> tuple[str, float]:
    a, b = statistics.median(known), statistics.median(unknown)
    ratio = a / b
    print(f"  {name:<34} known {a:7.2f} ms   unknown {b:7.2f} ms   ratio {ratio:5.2f}")
    return name, ratio


def run_mode(real: bool, rounds: int) -> list[tuple[str, float]]:
    app = make_app(real)
    number = seed(app)
    client = app.test_client()
    from app.progress import services

    step1 = {True: [], False: []}
    step2 = {True: [], False: []}
    login = {True: [], False: []}
    for i in range(rounds):
        for known in ((True, False) if i % 2 else (False, True)):
            step1[known].append(timed(client, "/progress/lookup",
                                      {"number": number if known else UNKNOWN}))
            step2[known].append(timed(client, "/progress/lookup/code", {"code": "000000"}))
            login[known].append(timed(client, "/staff/login", {
                "username": "clerk1" if known else "nobody", "password": "wrong-password"}))
    results = [compare("一号查询 step 1 (send the code)", step1[True], step1[False]),
               compare("一号查询 step 2 (a wrong code)", step2[True], step2[False]),
               compare("staff sign-in (a wrong password)", login[True], login[False])]
    if not real:  # the baseline: the code's job inline in the request, as before
        from app import jobs

        def before(number_):
            jobs.enqueue("progress.lookup_code", number_)
            from app.extensions import db

            db.session.commit()
            return {"number": number_, "at": time.time(), "tries": 0}

        original, services.start_lookup = services.start_lookup, before
        old = {True: [], False: []}
        try:
            for i in range(rounds // 2):
                for known in ((True, False) if i % 2 else (False, True)):
                    old[known].append(timed(client, "/progress/lookup",
                                            {"number": number if known else UNKNOWN}))
        finally:
            services.start_lookup = original
        print(f"  baseline, step 1 as before: known {statistics.median(old[True]):.2f} ms, "
              f"unknown {statistics.median(old[False]):.2f} ms, ratio "
              f"{statistics.median(old[True]) / statistics.median(old[False]):.2f}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--embedded-only", action="store_true")
    args = parser.parse_args()
    missed = []
    for real in ((False,) if args.embedded_only else (False, True)):
        label = "PostgreSQL + Redis" if real else "SQLite, jobs inline, limits in memory"
        print(f"{label} ({args.rounds} rounds of each):")
        for name, ratio in run_mode(real, args.rounds):
            if abs(ratio - 1) > TOLERANCE:
                missed.append(f"{name} ({'real' if real else 'embedded'}) ratio {ratio:.2f}")
    if missed:
        print("MISSED: known and unknown differ by more than 25%: " + "; ".join(missed))
        return 1
    print(f"OK: known and unknown take the same time (within {TOLERANCE:.0%}) in every case")
    return 0


if __name__ == "__main__":
    sys.exit(main())
