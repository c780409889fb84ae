"""Every page is cheap (issue 19): no citizen or clerk page sends more than 10 SQL statements, and
none sends more as the records it shows grow. The demo data is loaded, then the demo citizen is
given a few or 50 matters and the demo hall a few or 500 bookings today; each main page is asked
in both worlds and its statements are counted."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from conftest import Auth, shanghai
from sqlalchemy import event, insert, select

from app.applications.models import Application
from app.applications.states import Status
from app.auth.demo import DEMO_CITIZEN
from app.auth.models import User
from app.booking.models import Booking, Slot, SlotRule
from app.catalog.models import Hall, ServiceItem
from app.config import CATALOG_TIMINGS
from app.core.models import AuditLog
from app.core.timeutil import to_utc, utcnow
from app.extensions import db

LIMIT = 10
FEW, MANY = (3, 5), (50, 500)  # the citizen's matters, the hall's bookings today

CITIZEN_PAGES = ["/", "/me", "/applications", "/bookings", "/progress/mine", "/ratings/mine",
                 "/help/mine", "/licences", "{timeline}", "{application}", "{booking}",
                 "/services", "{guide}", "{slots}", "/halls"]
CLERK_PAGES = ["/staff", "/review", "/clerk/bookings", "/clerk/queue", "/staff/help",
               "/ratings/cases", "/staff/deliveries", "/feedback/staff/reports",
               "/feedback/staff/questions", "{review}"]


@contextmanager
def counted():
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _grow(matters: int, bookings: int, first: int) -> dict:
    """More matters for the demo citizen and more bookings at the hall today (numbered from
    `first`, so that a world can be grown twice); the pages' ids."""
    me = db.session.scalar(select(User).where(User.phone == DEMO_CITIZEN))
    rule = db.session.scalar(select(SlotRule).order_by(SlotRule.id))
    hall = db.session.get(Hall, rule.hall_id)
    now = utcnow()
    day = (now + timedelta(hours=8)).date()
    slot = Slot(rule_id=rule.id, hall_id=rule.hall_id, item_id=rule.item_id, day=day,
                window_group=rule.window_group,
                starts_at=to_utc(day, rule.end) + timedelta(minutes=first),
                ends_at=to_utc(day, rule.end) + timedelta(minutes=first + 30),
                capacity=bookings + 1, booked=bookings)
    db.session.add(slot)
    numbers = range(first, first + bookings)
    db.session.execute(insert(User), [{"phone": f"139{n:08d}"} for n in numbers])
    people = dict(db.session.execute(select(User.phone, User.id).where(
        User.phone.like("139%"))).all())
    db.session.flush()
    db.session.execute(insert(Booking), [
        {"number": f"B{n:09d}", "citizen_id": me.id if n == 0 else people[f"139{n:08d}"],
         "slot_id": slot.id, "hall_id": hall.id, "item_id": rule.item_id, "day": day,
         "starts_at": slot.starts_at, "ends_at": slot.ends_at, "idem_key": f"k{n}",
         "created_at": now} for n in numbers])
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.prereview.is_(True))
                             .order_by(ServiceItem.code))
    db.session.execute(insert(Application), [
        {"number": f"YS{n:010d}", "citizen_id": me.id, "item_id": item.id, "hall_id": hall.id,
         "title": item.name, "applicant_name": "张三", "contact_phone": DEMO_CITIZEN,
         "created_at": now - timedelta(days=n), "submitted_at": now - timedelta(days=n),
         "queued_at": now - timedelta(days=n),
         "status": [Status.SUBMITTED, Status.ACCEPTED, Status.COMPLETED][n % 3]}
        for n in range(first, first + matters)])
    made = db.session.scalars(select(Application.id).where(
        Application.number.like("YS%")).order_by(Application.id)).all()
    db.session.execute(insert(AuditLog), [
        {"entity": "application", "entity_id": app_id, "to_status": f"s{s}",
         "created_at": now - timedelta(hours=s), "public_note": f"第 {s + 1} 步"}
        for app_id in made[-matters:] for s in range(4)])
    db.session.commit()
    booking = db.session.scalar(select(Booking).where(Booking.citizen_id == me.id))
    return {"timeline": f"/progress/application/{made[0]}",
            "application": f"/applications/{made[0]}", "booking": f"/bookings/{booking.id}",
            "guide": f"/services/{item.code}", "slots": f"/book/{item.code}/hall/{hall.id}",
            "review": f"/review/{made[0]}"}


def _count(client, pages: list[str], ids: dict, prefix: str = "") -> dict:
    counts = {}
    for page in pages:
        url = page.format(**ids)
        client.get(url)  # the steady state: the catalog copy and compiled templates are warm
        with counted() as seen:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[prefix + page] = len(seen)
    return counts


def _all_pages(citizen, clerk, ids: dict) -> dict:
    return _count(citizen, CITIZEN_PAGES, ids) | _count(clerk, CLERK_PAGES, ids, "staff ")


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=False)  # a Wednesday morning
def test_no_page_sends_more_than_ten_statements_or_more_for_more_records(app, client, auth,
                                                                         runner):
    for name, seconds in CATALOG_TIMINGS.items():  # as deployed, not the tests' 0
        client.application.config[name] = seconds
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    auth.login_citizen(DEMO_CITIZEN)
    clerk = app.test_client()
    Auth(clerk).login_staff("clerk", "clerk-demo-2026")
    ids = _grow(*FEW, first=0)
    few = _all_pages(client, clerk, ids)
    _grow(MANY[0] - FEW[0], MANY[1] - FEW[1], first=FEW[1])
    many = _all_pages(client, clerk, ids)
    print("statements per page", many)
    assert {page: n for page, n in many.items() if n > LIMIT} == {}
    assert {page: (few[page], n) for page, n in many.items() if n != few[page]} == {}
