"""Push is sent (issue 22, point 3): a booking SMS gets its Web Push twin, and the queue tells a
booked ticket with 3 people ahead once, by push where subscribed, else by SMS. Checked against a
local push service that verifies the VAPID signature and decrypts the aes128gcm payload."""

import pytest
from conftest import Auth, shanghai
from sqlalchemy import select

import factories
from app.auth.models import User
from app.booking.models import Booking, Ticket
from app.extensions import db
from app.progress.models import PushSent, PushSubscription
from app.sms.models import SmsMessage

pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday


def _subscribe(app, push, phone: str, name: str) -> None:
    """The citizen allowed notifications in the installed app: the row the opt-in saves (the
    opt-in itself takes only https endpoints, which this local service is not)."""
    user = db.session.scalar(select(User).where(User.phone == phone)) or factories.citizen(phone)
    data = push.subscription(name)
    db.session.add(PushSubscription(user_id=user.id, endpoint=data["endpoint"], **data["keys"]))
    db.session.commit()


def _booked_today(app, world, phone: str, minutes: int) -> Booking:
    slot = world.soon_slot(minutes)
    browser = app.test_client()
    Auth(browser).login_citizen(phone)
    response = world.book(browser, slot, idem=f"k-{phone}")
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    return db.session.scalars(select(Booking).order_by(Booking.id.desc())).first()


def _sms(template: str) -> list[SmsMessage]:
    return db.session.scalars(select(SmsMessage).where(SmsMessage.template == template)
                              .order_by(SmsMessage.id)).all()


def test_a_booking_sms_gets_its_push_twin(app, world, push, run_jobs):
    _subscribe(app, push, "13800138000", "zhang")
    booking = _booked_today(app, world, "13800138000", 120)
    run_jobs()
    assert push.refused == []
    [(name, data)] = push.received
    assert name == "zhang" and data["title"] == "掌上办"
    assert f"预约号{booking.number}" in data["body"] and "/t/" in data["url"]
    assert len(_sms("booking_confirmed")) == 1  # the SMS is still sent


def _queue(app, client, auth, world, push, run_jobs, subscribed: str | None):
    """Five booked people checked in; the clerk at window C01 calls the first."""
    phones = [f"1370000000{n}" for n in range(1, 6)]
    if subscribed:
        _subscribe(app, push, phones[4], subscribed)
    bookings = [_booked_today(app, world, phone, 90 + n) for n, phone in enumerate(phones)]
    window = world.hall.windows[0]
    window.code = "C01"
    db.session.commit()
    auth.login_staff("clerk1", "secret-pass-1")
    client.post("/clerk/queue/window", data={"window_id": window.id})
    for booking in bookings:
        assert client.post("/clerk/queue/checkin",
                           data={"number": booking.number}).status_code == 303
    run_jobs()
    push.received.clear()  # the booking confirmations
    assert client.post("/clerk/queue/call").status_code == 303
    run_jobs()
    return phones


def test_three_ahead_hears_it_once_by_push(app, client, auth, world, push, run_jobs):
    phones = _queue(app, client, auth, world, push, run_jobs, subscribed="fifth")
    assert push.refused == []
    [(name, data)] = push.received
    assert name == "fifth" and data["body"] == "A005号前面还有 3 人,请到 C01 窗口附近等候"
    assert data["url"].endswith("/ticket")
    near = _sms("progress_called_soon")  # the others, not subscribed: by SMS
    assert [(m.phone, m.params["ahead"]) for m in near] == [(phones[2], "1"), (phones[3], "2")]
    assert "前面还有 1 人,请到 C01 窗口附近等候" in near[0].text and "/t/" in near[0].text
    # the next call tells nobody twice
    called = db.session.scalar(select(Ticket).where(Ticket.status == "called"))
    assert client.post(f"/clerk/queue/{called.id}/served").status_code == 303
    assert client.post("/clerk/queue/call").status_code == 303
    run_jobs()
    assert len(push.received) == 1 and len(_sms("progress_called_soon")) == 2


def test_without_a_subscription_the_sms_goes(app, client, auth, world, push, run_jobs):
    phones = _queue(app, client, auth, world, push, run_jobs, subscribed=None)
    assert push.received == []
    texts = {m.phone: m.text for m in _sms("progress_called_soon")}
    assert "A005号前面还有 3 人,请到 C01 窗口附近等候" in texts[phones[4]]


def test_a_gone_subscription_falls_back_to_sms(app, client, auth, world, push, run_jobs):
    push.answer = 410  # the browser unsubscribed since
    phones = _queue(app, client, auth, world, push, run_jobs, subscribed="fifth")
    assert push.received == []
    texts = {m.phone: m.text for m in _sms("progress_called_soon")}
    assert "A005号前面还有 3 人" in texts[phones[4]]
    assert db.session.query(PushSubscription).count() == 0
    assert db.session.query(PushSent).count() == 0
