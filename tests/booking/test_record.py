"""The citizen's own booking record (issue 22, point 5): 我的 shows 近 90 天 counts, and the cancel
page says, before the citizen confirms, when this cancellation would bar them."""

from datetime import UTC, timedelta

import pytest
from conftest import shanghai
from sqlalchemy import select

from app.booking import record as booking_records
from app.booking.models import Booking
from app.extensions import db

WEDNESDAY = shanghai("2026-12-02 10:00")


def _past(world, days_ago: float, status: str, reason: str | None = "citizen") -> None:
    """A booking of the citizen cancelled or missed `days_ago` days ago."""
    n = [db.session.query(Booking).count() + 1]
    slot = world.slot(0)
    at = (WEDNESDAY - timedelta(days=days_ago)).astimezone(UTC).replace(tzinfo=None)
    db.session.add(Booking(
        number=f"9{n[0]:07d}", citizen_id=world.citizen.id, slot_id=slot.id,
        hall_id=world.hall.id, item_id=world.item.id, day=at.date(), idem_key=f"old{n[0]}",
        starts_at=at, ends_at=at + timedelta(minutes=30), status=status,
        cancel_reason=reason if status == "cancelled" else None,
        cancelled_at=at if status == "cancelled" else None,
        no_show_at=at if status == "no_show" else None))
    db.session.commit()


def _record(page: str) -> str:
    from bs4 import BeautifulSoup

    found = BeautifulSoup(page, "html.parser").find(id="booking-record")
    return " ".join(found.get_text(" ", strip=True).split()) if found else ""


@pytest.mark.time_machine(WEDNESDAY, tick=False)
def test_me_shows_the_90_day_record(client, auth, world):
    _past(world, 3, "cancelled")
    _past(world, 40, "cancelled")
    _past(world, 10, "no_show")
    _past(world, 95, "cancelled")  # older than 90 days: not shown
    _past(world, 5, "cancelled", reason="changed")  # a change of time is not a cancellation
    _past(world, 6, "cancelled", reason="hall")  # nor one the hall made
    auth.login_citizen()
    record = _record(client.get("/me").get_data(as_text=True))
    assert "近 90 天:取消 2 次,爽约 1 次" in record
    assert "30 天内取消 5 次或爽约 2 次,将暂停网上预约 90 天" in record


@pytest.mark.time_machine(WEDNESDAY, tick=False)
def test_me_says_until_when_a_citizen_is_barred(client, auth, world):
    _past(world, 10, "no_show")
    _past(world, 4, "no_show")  # 4 days ago + 90 days: booking opens again on 27 February
    auth.login_citizen()
    record = _record(client.get("/me").get_data(as_text=True))
    assert "近 90 天:取消 0 次,爽约 2 次" in record
    assert "您30 天内爽约 2 次,暂停网上预约至 2027年02月27日" in record


@pytest.mark.time_machine(WEDNESDAY, tick=False)
def test_record_counts_with_the_bar_rules_own_function(app, world, monkeypatch):
    _past(world, 3, "cancelled")
    calls = []
    real = booking_records.counted_events
    monkeypatch.setattr(booking_records, "counted_events",
                        lambda *a: calls.append(a) or real(*a))
    with app.test_request_context():
        record = booking_records.booking_record(world.citizen.id)
        booking_records.barred_until(world.citizen.id)
    assert (record.cancels, record.no_shows, record.barred_until) == (1, 0, None)
    assert len(calls) == 2


def test_staff_see_no_booking_record(client, auth, world):
    auth.login_staff("clerk1", "secret-pass-1")
    assert _record(client.get("/me").get_data(as_text=True)) == ""


def _booked(client, auth, world) -> Booking:
    auth.login_citizen()
    assert world.book(client, world.slot(0), idem="now").status_code == 303
    return db.session.scalars(select(Booking).where(Booking.status == "booked")).one()


@pytest.mark.time_machine(WEDNESDAY, tick=False)
def test_cancel_page_warns_when_this_cancel_would_bar(client, auth, world):
    for days in (2, 5, 8, 20):
        _past(world, days, "cancelled")
    booking = _booked(client, auth, world)
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "这次取消后,您30 天内取消预约 5 次,将暂停网上预约至 2027年03月03日" in page
    assert "确定取消" in page  # the warning comes before the confirmation, which stays
    assert client.post(f"/bookings/{booking.id}/cancel").status_code == 303
    assert booking_records.barred_until(world.citizen.id)[0].isoformat() == "2027-03-03"


@pytest.mark.time_machine(WEDNESDAY, tick=False)
def test_cancel_page_says_nothing_when_far_from_the_bar(client, auth, world):
    for days in (2, 5, 40):  # one outside the 30 days
        _past(world, days, "cancelled")
    booking = _booked(client, auth, world)
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "cancel-bars" not in page and "确定取消" in page
