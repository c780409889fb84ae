"""Many people at once for the last places: exactly the capacity is taken.

On SQLite and on PostgreSQL (run with TEST_DATABASE_URL); each thread has its own request (and
app) context, session and connection.
"""

import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.booking import services
from app.booking.models import Booking, Slot
from app.booking.services import BookingError
from app.extensions import db

THREADS = 16


def _race(app, slot_id: int, people: list[int], keys: list[str]) -> list[str]:
    barrier = threading.Barrier(len(people))
    results: list[str] = []
    lock = threading.Lock()

    def attempt(user_id: int, key: str):
        with app.test_request_context():
            user = db.session.get(User, user_id)
            db.session.commit()
            barrier.wait()
            try:
                booking = services.book(user, slot_id, key)
                outcome = f"booked:{booking.id}"
            except BookingError as err:
                outcome = err.message
            finally:
                db.session.remove()
        with lock:
            results.append(outcome)

    pairs = zip(people, keys, strict=True)
    threads = [threading.Thread(target=attempt, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_exactly_the_capacity_is_taken(app, world):
    slot = world.slot()
    slot.capacity, slot.booked = 3, 1  # two places left
    people = [User(phone=f"1370000{n:04d}", role="citizen") for n in range(THREADS)]
    db.session.add_all(people)
    db.session.commit()
    results = _race(app, slot.id, [p.id for p in people], [f"k{n}" for n in range(THREADS)])
    assert len(results) == THREADS
    assert sum(r.startswith("booked") for r in results) == 2
    assert all(r.startswith("booked") or "已约满" in r for r in results), results
    db.session.expire_all()
    assert db.session.get(Slot, slot.id).booked == 3
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 2


def test_concurrent_double_submit_books_once(app, world):
    slot = world.slot()
    results = _race(app, slot.id, [world.citizen.id] * 6, ["same"] * 6)
    assert len(set(results)) == 1 and results[0].startswith("booked"), results
    db.session.expire_all()
    assert db.session.get(Slot, slot.id).booked == 1
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_concurrent_different_slots_same_day_books_once(app, world):
    slots = world.slots()[:4]
    barrier_results = []
    for s in slots:
        s.capacity = 5
    db.session.commit()
    threads, lock = [], threading.Lock()
    barrier = threading.Barrier(len(slots))

    def attempt(slot_id, key):
        with app.test_request_context():
            user = db.session.get(User, world.citizen.id)
            db.session.commit()
            barrier.wait()
            try:
                services.book(user, slot_id, key)
                outcome = "booked"
            except BookingError as err:
                outcome = err.message
            finally:
                db.session.remove()
        with lock:
            barrier_results.append(outcome)

    for n, s in enumerate(slots):
        threads.append(threading.Thread(target=attempt, args=(s.id, f"d{n}")))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert barrier_results.count("booked") == 1, barrier_results
    db.session.expire_all()
    assert sum(db.session.get(Slot, s.id).booked for s in slots) == 1


def test_sqlite_write_transaction_begins_immediately(app, world):
    """On SQLite the booking transaction holds the write lock from its first statement."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL relies on the conditional UPDATE's row lock instead")
    db.session.commit()
    services.begin_write()
    raw = db.session.connection().connection.dbapi_connection
    assert raw.in_transaction
    other = sqlite3.connect(db.engine.url.database, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        db.session.rollback()
