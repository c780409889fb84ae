"""Bookings in 我的办件, their timeline, their SMS link and the lookup by number."""

import re

from app.extensions import db, limiter
from app.sms.models import SmsMessage


def test_booking_link_mine_and_lookup(app, client, auth, world, run_jobs):
    auth.login_citizen("13800138000")
    slot = world.slot()
    assert world.book(client, slot).status_code == 303
    booking = world.booking()[0]
    page = client.get("/progress/mine").get_data(as_text=True)
    assert booking.number in page and "已预约" in page
    page = client.get(f"/progress/booking/{booking.id}").get_data(as_text=True)
    assert "预约成功" in page, page
    auth.logout()
    text = db.session.query(SmsMessage).filter_by(template="booking_confirmed").one().text
    path = "/t/" + re.search(r"/t/([A-Za-z0-9]{12})", text).group(1)
    r = client.get(path)
    assert r.status_code == 302 and r.headers["Location"] == f"/progress/booking/{booking.id}"
    assert client.get(f"/bookings/{booking.id}").status_code == 200
    other = app.test_client()
    limiter.reset()  # the phone's sign-in code went a moment ago: as if a minute had passed
    r = other.post("/progress/lookup", data={"number": booking.number})
    run_jobs()
    code = db.session.query(SmsMessage).filter_by(template="lookup_code").one().params["code"]
    r = other.post("/progress/lookup/code", data={"code": code})
    assert r.headers["Location"] == f"/progress/booking/{booking.id}"
