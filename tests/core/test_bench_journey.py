"""bench/journey.py's person, walked through the app in-process: the benchmark's steps (its
regular expressions, form fields and expected answers) break here, in the suite, when a page
changes under them, instead of silently on the next benchmark run."""

import asyncio
import importlib.util
import random
import sys
from pathlib import Path

import pytest
from applications.application_kit import photo
from conftest import shanghai

ROOT = Path(__file__).resolve().parents[2]


def _bench(name: str):
    """bench/<name>.py, loaded afresh under its own name. The benches put bench/ first on
    sys.path for their siblings, where bench/ratings.py would hide the tests' own `ratings`
    package from every later test file: the path is put back as it was once the module loaded."""
    saved = list(sys.path)
    try:
        sys.path.insert(0, str(ROOT / "bench"))
        spec = importlib.util.spec_from_file_location(name, ROOT / f"bench/{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


journey = _bench("journey")


# A Wednesday morning: the demo's halls are open, and the booking days ahead have slots.
@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_the_bench_journey_walks_through_the_app(app, runner, run_jobs):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    phone = journey.InProcessPhone(app, "13912345678", [photo(), photo(900, 1200)],
                                   random.Random(1), settle=run_jobs)
    for step in journey.STEPS:
        asyncio.run(getattr(phone, step)())  # raises journey.Unexpected on a wrong answer
    assert phone.answers and all(status == 200 for _, _, status in phone.answers), phone.answers
    asked = {(method, path) for method, path, _ in phone.answers}
    assert {("POST", "/login/verify"), ("GET", journey.GUIDE),
            ("GET", "/progress/mine")} <= asked
    assert phone.booking_id and len(phone.uploads) == 2 and phone.full_retries == 0
    assert any(method == "POST" and path.startswith("/book/slot/") for method, path in asked)
    assert sum(path.endswith("/photos") for method, path in asked if method == "POST") == 2


@pytest.mark.parametrize(("db", "redis", "env"), [
    ("test", "redis://127.0.0.1:6379/10", {}),
    ("palm_bench_x", "redis://127.0.0.1:6379/15", {}),
    ("palm_t", "redis://127.0.0.1:6379/10", {"TEST_DATABASE_URL": "postgresql://h:5432/palm_t"}),
    ("palm_bench_x", "redis://h:6379/3", {"REDIS_URL": "redis://h:6379/3"}),
])
def test_the_benches_refuse_the_tests_database_and_redis(monkeypatch, db, redis, env):
    """They drop their database and flush their Redis db: never the test run's."""
    monkeypatch.setattr(journey, "DB", db)
    monkeypatch.setattr(journey, "REDIS", redis)
    for name in ("TEST_DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match="the bench would"):
        journey.refuse_the_tests_services()
    monkeypatch.setattr(journey, "DB", "palm_bench_lighthouse")
    monkeypatch.setattr(journey, "REDIS", "redis://127.0.0.1:6379/10")
    journey.refuse_the_tests_services()  # its own: no exit


def test_lighthouse_has_its_own_database_and_redis_db(monkeypatch):
    for name in ("BENCH_DB", "BENCH_REDIS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(journey, "DB", journey.DB)  # put back after: lighthouse sets them
    monkeypatch.setattr(journey, "REDIS", journey.REDIS)
    monkeypatch.setitem(sys.modules, "journey", journey)  # the one lighthouse imports
    _bench("lighthouse")  # its settings as read from this environment
    assert journey.DB == "palm_bench_lighthouse" and journey.REDIS.endswith("/10")
