"""A closed day or fewer places over bookings (issue 22, point 8): the admin sees how many it
touches and confirms; those bookings are cancelled by the hall, not counted against the citizen,
each citizen gets an SMS with a link to book again, and the admin page lists what happened."""

from datetime import date

import pytest
from conftest import shanghai
from html_kit import field_value, one, text_of
from sqlalchemy import select

from app.booking import record
from app.booking.models import Booking, Slot
from app.catalog.workdays import CalendarDay
from app.extensions import db
from app.sms.models import SmsMessage

FRIDAY = date(2026, 12, 4)
pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday


def _booked(client, auth, world, phone, slot, idem):
    auth.logout()
    auth.login_citizen(phone)
    assert world.book(client, slot, idem=idem).status_code == 303
    return db.session.scalars(select(Booking).order_by(Booking.id.desc())).first()


def _as_admin(client, auth):
    auth.logout()
    auth.login_staff("admin1", "secret-pass-2")


def test_a_closed_day_asks_then_cancels_for_the_hall(app, client, auth, world, monkeypatch):
    monkeypatch.setitem(app.config, "BOOKING_CANCEL_LIMIT", 1)  # one own cancel would bar
    first = _booked(client, auth, world, "13800138000", world.slot(0, FRIDAY), "a")
    second = _booked(client, auth, world, "13900139000", world.slot(1, FRIDAY), "b")
    _as_admin(client, auth)
    form = {"day": FRIDAY.isoformat(), "kind": "holiday", "name": "设备检修"}
    ask = client.post("/admin/booking/days", data=form)
    page = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "会影响 2 个预约" in page
    assert first.number in page and "138****8000" in page and "13800138000" not in page
    assert field_value(page, "confirm") == "2" and field_value(page, "name") == "设备检修"
    assert db.session.query(CalendarDay).count() == 0  # nothing changed yet
    # a stale confirmation (one booking more since) asks again
    assert "会影响 2 个预约" in client.post(
        "/admin/booking/days", data={**form, "confirm": "1"}).get_data(as_text=True)
    done = client.post("/admin/booking/days", data={**form, "confirm": "2"})
    assert done.status_code == 303
    assert db.session.query(CalendarDay).one().is_workday is False
    for row in (first, second):
        db.session.refresh(row)
        assert (row.status, row.cancel_reason) == ("cancelled", "hall")
    assert sum(s.booked for s in db.session.scalars(select(Slot).where(Slot.day == FRIDAY))) == 0
    messages = db.session.scalars(select(SmsMessage).where(
        SmsMessage.template == "booking_hall_cancelled")).all()
    assert sorted(m.phone for m in messages) == ["13800138000", "13900139000"]
    assert "因设备检修闭厅" in messages[0].text and "不计爽约" in messages[0].text
    assert "/t/" in messages[0].text
    with app.test_request_context():  # not the citizen's cancel: no bar
        assert record.barred_until(world.citizen.id) == (None, "")
    admin = client.get("/admin/booking").get_data(as_text=True)
    assert first.number in text_of(admin, f"#hall-cancelled-{first.id}")
    assert "已取消 2 个预约" in admin  # the flash
    # the citizen opens the link: the timeline says why and offers to book again
    auth.logout()
    link = "/t/" + messages[0].text.rsplit("/t/", 1)[1]
    timeline = client.get(client.get(link).headers["Location"]).get_data(as_text=True)
    assert "不计入您的取消或爽约次数" in timeline
    assert one(timeline, "a#matter-action")["href"].startswith(
        f"/book/{world.item.code}/hall/{world.hall.id}")
    # and the admin's second look sends nothing again
    _as_admin(client, auth)
    assert client.post("/admin/booking/days", data=form).status_code == 303
    assert db.session.query(SmsMessage).filter_by(template="booking_hall_cancelled").count() == 2


def test_a_swapped_workday_or_an_empty_day_needs_no_question(client, auth, world):
    _booked(client, auth, world, "13800138000", world.slot(0, FRIDAY), "a")
    _as_admin(client, auth)
    assert client.post("/admin/booking/days", data={
        "day": FRIDAY.isoformat(), "kind": "workday"}).status_code == 303
    assert client.post("/admin/booking/days", data={
        "day": "2026-12-07", "kind": "holiday"}).status_code == 303
    assert db.session.query(Booking).filter_by(status="booked").count() == 1


def test_a_capacity_cut_cancels_the_bookings_made_last(client, auth, world):
    slot = world.slot(0, FRIDAY)
    first = _booked(client, auth, world, "13800138000", slot, "a")
    last = _booked(client, auth, world, "13900139000", slot, "b")
    rule = slot.rule
    _as_admin(client, auth)
    url = f"/admin/booking/rules/{rule.id}/capacity"
    page = client.post(url, data={"capacity": "1"}).get_data(as_text=True)
    assert "名额改为 1会影响 1 个预约" in page and last.number in page
    assert first.number not in page
    assert client.post(url, data={"capacity": "1", "confirm": "1"}).status_code == 303
    db.session.refresh(first)
    db.session.refresh(last)
    assert first.status == "booked" and (last.status, last.cancel_reason) == ("cancelled", "hall")
    db.session.refresh(slot)
    assert (slot.capacity, slot.booked) == (1, 1)
    [message] = db.session.scalars(select(SmsMessage).where(
        SmsMessage.template == "booking_hall_cancelled")).all()
    assert message.phone == "13900139000" and "因时段名额调整" in message.text
    # more places, or as many as taken: no question
    assert client.post(url, data={"capacity": "3"}).status_code == 303
    assert db.session.get(type(rule), rule.id).capacity == 3
