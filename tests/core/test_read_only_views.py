"""Every @read_only view (app/core/readonly.py) is requested here, on bench/journey.py's way through
the app: the home page, the booking pages, the booking's confirmation, the start of an application,
the photo's status poll, 我的办件 and a timeline. Each ran only SELECTs, every one of them on a
connection in autocommit (no BEGIN, no ROLLBACK), and the pool got its connections back in the
engine's own mode."""

import asyncio
import random
import re

import pytest
from applications.application_kit import photo
from conftest import shanghai
from core.test_bench_journey import journey
from flask import has_request_context, request
from sqlalchemy import event, text

from app.booking.models import Booking
from app.core.readonly import READ_ONLY_VIEWS, read_only
from app.extensions import db


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday morning
def test_read_only_views_only_select_outside_a_transaction(app, runner, run_jobs):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    seen = []  # (view, statement, isolation level) of every statement a @read_only view ran

    def record(conn, _cursor, statement, *_args):
        if not has_request_context() or request.method not in ("GET", "POST"):
            return
        # the request's own session; the catalog's copy is loaded in a session of its own
        session = db.session()
        if not (session.in_transaction() and session.connection() is conn):
            return
        view = app.view_functions.get(request.endpoint)
        name = f"{view.__module__}.{view.__qualname__}" if view else None
        if name in READ_ONLY_VIEWS:
            seen.append((request.method, name, statement,
                         conn.get_execution_options().get("isolation_level")))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        phone = journey.InProcessPhone(app, "13912345670", [photo(), photo(900, 1200)],
                                       random.Random(2), settle=run_jobs)
        for step in journey.STEPS:
            asyncio.run(getattr(phone, step)())
        # The confirm page in both its forms, whichever the person took: a time somebody has
        # booked (its slot row, as the booking made it) and one nobody has yet
        slot_id = db.session.get(Booking, phone.booking_id).slot_id
        asyncio.run(phone.get(f"/book/slot/{slot_id}"))
        hall = asyncio.run(phone.get("/book/HJ-002"))
        asyncio.run(phone.get(re.search(r'href="(/book/slot/\d+-[^"]+)"', hall).group(1)
                              .replace("&amp;", "&")))
        # 改约: the same pages for moving the booking; and a staff member's poll of the photo
        booking = db.session.get(Booking, phone.booking_id)
        asyncio.run(phone.get(f"/book/HJ-002/hall/{booking.hall_id}?change={booking.id}"))
        asyncio.run(phone.get(f"/book/slot/{slot_id}?change={booking.id}"))
        staff = app.test_client()
        assert staff.post("/staff/login", data={"username": "city", "password": "city-demo-2026"}
                          ).status_code == 303
        # the poll as the page sends it; a draft is nobody's but its citizen's: 404, after the
        # staff scope was read
        assert staff.get(f"/applications/photos/{phone.uploads[0]}/status",
                         headers={"HX-Request": "true"}).status_code == 404
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    gets = [(name, s, level) for method, name, s, level in seen if method == "GET"]
    assert {name for name, _, _ in gets} == READ_ONLY_VIEWS  # a new one: put it on the way
    # a locking read is no read here: in autocommit its lock ends with the statement
    writes = [(name, s) for name, s, _ in gets if not s.lstrip().upper().startswith("SELECT")
              or " FOR UPDATE" in s.upper() or " FOR SHARE" in s.upper()]
    assert writes == []
    assert [(name, level) for name, _, level in gets if level != "AUTOCOMMIT"] == []
    # the forms' POSTs (booking, the applicant page) write in a transaction, as ever
    posts = {(name, level) for method, name, _, level in seen if method == "POST"}
    posted = {name for name, _ in posts}
    assert "app.applications.routes.applicant" in posted
    assert posted & {"app.booking.routes.confirm", "app.booking.routes.confirm_unsaved"}
    assert {level for _, level in posts} == {None}
    assert_pool_back_in_its_own_mode()


def assert_pool_back_in_its_own_mode() -> None:
    """Every pooled connection is back in the engine's default mode, not autocommit."""
    db.session.close()
    pooled = [db.engine.connect() for _ in range(db.engine.pool.checkedin())]
    try:
        assert pooled
        for conn in pooled:
            assert conn.get_isolation_level() == conn.default_isolation_level != "AUTOCOMMIT"
    finally:
        for conn in pooled:
            conn.close()


def _counted_checkouts():
    taken = []

    def checkout(*_args):
        taken.append(1)

    event.listen(db.engine, "checkout", checkout)
    return taken, lambda: event.remove(db.engine, "checkout", checkout)


def _views(*views):
    """Views wrapped as the app's are, kept out of READ_ONLY_VIEWS afterwards (the test above
    requests every name in it)."""
    wrapped = [read_only(view) for view in views]
    return wrapped, lambda: READ_ONLY_VIEWS.difference_update(
        f"{v.__module__}.{v.__qualname__}" for v in views)


def test_a_read_only_view_takes_its_connection_only_for_its_first_query(app):
    def page_from_a_copy():
        return "page"

    def page_that_reads():
        return db.session.execute(text("SELECT 1")).scalar()

    def page_that_asks_another_first():
        nothing()  # a @read_only view that queries nothing leaves its caller's mark alone
        return db.session.execute(text("SELECT 1")).scalar()

    (nothing, reads, nested), forget = _views(page_from_a_copy, page_that_reads,
                                              page_that_asks_another_first)
    taken, stop = _counted_checkouts()
    try:
        with app.test_request_context("/", method="GET"):
            db.session.close()
            assert nothing() == "page"
            assert taken == [] and not db.session().in_transaction()  # no connection at all
            assert reads() == 1 and len(taken) == 1
            level = db.session.connection().get_execution_options().get("isolation_level")
            assert level == "AUTOCOMMIT"
            # the mark lasts one transaction: the next runs in the engine's own mode
            db.session.commit()
            db.session.execute(text("SELECT 1"))
            assert db.session.connection().get_execution_options().get("isolation_level") is None
            db.session.rollback()
            # nor does a view that queried nothing leave it behind
            assert nothing() == "page"
            db.session.execute(text("SELECT 1"))
            assert db.session.connection().get_execution_options().get("isolation_level") is None
            db.session.rollback()
            assert nested() == 1
            level = db.session.connection().get_execution_options().get("isolation_level")
            assert level == "AUTOCOMMIT"
            db.session.rollback()
        with app.test_request_context("/", method="POST"):  # a form's POST writes in a transaction
            assert reads() == 1
            assert db.session.connection().get_execution_options().get("isolation_level") is None
            db.session.rollback()
    finally:
        stop()
        forget()
    assert_pool_back_in_its_own_mode()
