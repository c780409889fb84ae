"""Check-in, tickets per window group, priority, calling, the citizen's ticket and the display."""

from conftest import Auth
from html_kit import attrs, errors, field_value, one, text_of
from sqlalchemy import select

from app.booking import tickets
from app.booking.models import Booking, Ticket
from app.core.models import AuditLog
from app.extensions import db
from app.sms.models import SmsMessage


def _booked_today(client, auth, world, phone="13800138000", minutes=90):
    """A booking for later today, made through the pages on the citizen's own phone."""
    slot = world.soon_slot(minutes)
    world.phone = client.application.test_client()
    Auth(world.phone).login_citizen(phone)
    assert world.book(world.phone, slot, idem=f"k-{phone}").status_code == 303
    return db.session.scalars(select(Booking).order_by(Booking.id.desc())).first()


def _clerk(client, auth, world):
    auth.login_staff("clerk1", "secret-pass-1")
    window = world.hall.windows[0]
    client.post("/clerk/queue/window", data={"window_id": window.id})
    return window


def test_check_in_by_number_gives_a_ticket(client, auth, world):
    booking = _booked_today(client, auth, world)
    _clerk(client, auth, world)
    response = client.post("/clerk/queue/checkin", data={"number": booking.number[:4] + " " +
                                                         booking.number[4:]})
    assert response.status_code == 303
    html = client.get("/clerk/queue").get_data(as_text=True)
    assert "A001" in html
    db.session.refresh(booking)
    assert booking.status == "checked_in"
    again = client.post("/clerk/queue/checkin", data={"number": booking.number})
    assert again.status_code == 409 and "已签到" in errors(again)


def test_check_in_bad_numbers(client, auth, world):
    _clerk(client, auth, world)
    short = client.post("/clerk/queue/checkin", data={"number": "12ab"})
    assert short.status_code == 400 and "8 位预约号" in errors(short)
    assert field_value(short, "number") == "12ab"
    unknown = client.post("/clerk/queue/checkin", data={"number": "00000000"})
    assert unknown.status_code == 404 and "没有预约号" in errors(unknown)


def test_other_halls_clerk_cannot_check_in(client, auth, world):
    booking = _booked_today(client, auth, world)
    auth.login_staff("clerk2", "secret-pass-3")
    response = client.post("/clerk/queue/checkin", data={"number": booking.number})
    assert response.status_code == 404
    db.session.refresh(booking)
    assert booking.status == "booked"


def test_citizen_cannot_reach_clerk_pages(client, auth, world):
    auth.login_citizen()
    assert client.get("/clerk/queue").status_code == 403
    assert client.get("/clerk/bookings").status_code == 403
    assert client.get("/admin/booking").status_code == 403


def test_bookings_and_seniors_go_before_walk_ins(client, auth, world):
    _clerk(client, auth, world)
    client.post("/clerk/queue/walkin", data={"group": "A"})  # A001 walk-in
    auth.logout()
    booking = _booked_today(client, auth, world)
    window = _clerk(client, auth, world)
    client.post("/clerk/queue/checkin", data={"number": booking.number})  # A002 booking
    client.post("/clerk/queue/walkin", data={"group": "A", "senior": "1"})  # A003 senior
    client.post("/clerk/queue/walkin", data={"group": "B"})  # B001, another group
    order = []
    for _ in range(3):
        assert client.post("/clerk/queue/call").status_code == 303
        called = db.session.scalar(select(Ticket).where(Ticket.status == "called"))
        order.append(called.code)
        assert called.window_id == window.id
        client.post(f"/clerk/queue/{called.id}/served")
    assert order == ["A002", "A003", "A001"]
    empty = client.post("/clerk/queue/call")
    assert empty.status_code == 404 and "没有等候" in errors(empty)


def test_call_recall_served_and_the_citizens_ticket_page(client, auth, world):
    booking = _booked_today(client, auth, world)
    _clerk(client, auth, world)
    client.post("/clerk/queue/walkin", data={"group": "A", "senior": "1"})
    client.post("/clerk/queue/checkin", data={"number": booking.number})
    page = world.phone.get(f"/bookings/{booking.id}/ticket").get_data(as_text=True)
    ticket = one(page, "section.ticket")
    assert text_of(page, ".ticket-code") == "A002" and ticket["hx-trigger"] == "every 3s"
    assert text_of(page, "section.ticket .ticket-ahead strong") == "1"
    assert client.get(f"/bookings/{booking.id}/ticket").status_code == 404  # the clerk's phone
    client.post("/clerk/queue/call")  # the senior's A001
    busy = client.post("/clerk/queue/call")
    assert busy.status_code == 409 and "请先把 A001" in errors(busy)
    first = db.session.scalar(select(Ticket).where(Ticket.status == "called"))
    client.post(f"/clerk/queue/{first.id}/served")
    client.post("/clerk/queue/call")
    ticket = db.session.scalar(select(Ticket).where(Ticket.booking_id == booking.id))
    assert ticket.status == "called"
    assert client.post(f"/clerk/queue/{ticket.id}/recall").status_code == 303
    db.session.refresh(ticket)
    assert ticket.recalls == 1
    display = client.get(f"/halls/{world.hall.id}/display",
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "A002" in display and world.hall.windows[0].name in display
    fragment = world.phone.get(f"/bookings/{booking.id}/ticket",
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "请到" in fragment and world.hall.windows[0].name in fragment
    client.post(f"/clerk/queue/{ticket.id}/served")
    db.session.refresh(booking)
    assert booking.status == "served"
    notes = db.session.scalars(select(AuditLog.public_note).where(
        AuditLog.entity == "booking", AuditLog.entity_id == booking.id)
        .order_by(AuditLog.id)).all()
    assert len(notes) == 5 and all(notes)  # booked, checked in, called, re-called, served
    window = world.hall.windows[0].name
    assert notes[2] == f"A002 请到 {window} 办理"
    moves = db.session.execute(select(AuditLog.from_status, AuditLog.to_status, AuditLog.note)
                               .where(AuditLog.entity == "ticket", AuditLog.entity_id == ticket.id)
                               .order_by(AuditLog.id)).all()
    assert [tuple(m) for m in moves] == [
        (None, "waiting", "取号 A002"), ("waiting", "called", f"A002 {window}"),
        ("called", "called", f"A002 {window}"), ("called", "served", f"A002 {window}")]
    db.session.refresh(ticket)
    assert ticket.called_at is not None and ticket.finished_at >= ticket.called_at
    invite = db.session.scalar(select(SmsMessage).where(SmsMessage.template == "rating_invite"))
    assert invite is not None and invite.phone == "13800138000"  # 一次一评 after serving


def test_no_show_at_the_window(client, auth, world):
    booking = _booked_today(client, auth, world)
    _clerk(client, auth, world)
    client.post("/clerk/queue/checkin", data={"number": booking.number})
    client.post("/clerk/queue/call")
    ticket = db.session.scalar(select(Ticket))
    client.post(f"/clerk/queue/{ticket.id}/no_show")
    db.session.refresh(booking)
    assert booking.status == "no_show" and ticket.status == "no_show"
    refused = client.post(f"/clerk/queue/{ticket.id}/served")
    assert refused.status_code == 409


def test_clerk_day_view_counts(client, auth, world):
    booking = _booked_today(client, auth, world)
    auth.login_staff("clerk1", "secret-pass-1")
    html = client.get("/clerk/bookings").get_data(as_text=True)
    assert booking.number in html and "138****8000" in html and "13800138000" not in html
    assert "近 30 天" not in html
    auth.logout()
    auth.login_staff("admin1", "secret-pass-2")
    html = client.get("/clerk/bookings").get_data(as_text=True)
    assert "近 30 天各事项取消与爽约" in html and world.item.name in html


def test_other_halls_clerk_sees_none_of_our_bookings(client, auth, world):
    booking = _booked_today(client, auth, world)
    auth.login_staff("clerk2", "secret-pass-3")
    assert booking.number not in client.get("/clerk/bookings").get_data(as_text=True)


def test_display_page_is_public_and_polls(client, world):
    html = client.get(f"/halls/{world.hall.id}/display").get_data(as_text=True)
    assert attrs(html, f"#booking-display-{world.hall.id}")["hx-trigger"] == "every 2s"
    assert client.get("/halls/999999/display").status_code == 404


def test_ticket_numbers_are_per_group_and_day(app, world):
    with app.test_request_context():
        codes = [tickets.walk_in(world.clerk, g, False).code for g in "AABA"]
    assert codes == ["A001", "A002", "B001", "A003"]
