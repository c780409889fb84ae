"""前面还有 3 人 at phone size (issue 22, point 3): the clerk calls on a phone; the app's push goes
through a local push service (VAPID checked, aes128gcm decrypted) and, delivered to the citizen's
installed app, its service worker shows the notification that opens the ticket."""

import json
import time
from datetime import timedelta

import pytest
from conftest import shanghai
from e2e.browser import sign_in
from sqlalchemy import select

import factories
from app.auth.models import User
from app.booking.models import Booking, Slot, Ticket
from app.catalog.models import ServiceItem
from app.core.timeutil import local_now, utcnow
from app.extensions import db
from app.progress.models import PushSubscription
from app.sms.models import SmsMessage

ITEM = "HJ-002"


def _checked_in(owner, item, hall_id, group, n) -> Booking:
    starts = utcnow() + timedelta(minutes=30 + n)
    slot = Slot(hall_id=hall_id, item_id=item.id, day=local_now().date(), starts_at=starts,
                ends_at=starts + timedelta(minutes=30), capacity=1, booked=1, window_group=group)
    db.session.add(slot)
    db.session.flush()
    row = Booking(number=f"6612000{n}", citizen_id=owner.id, slot_id=slot.id, hall_id=hall_id,
                  item_id=item.id, day=slot.day, idem_key=f"near{n}", starts_at=starts,
                  ends_at=slot.ends_at, status="checked_in", checked_in_at=utcnow())
    db.session.add(row)
    db.session.flush()
    db.session.add(Ticket(hall_id=hall_id, window_group=group, day=slot.day, seq=900 + n,
                          booking_id=row.id, item_id=item.id, priority=0))
    db.session.commit()
    return row


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday morning
def test_near_turn_push_reaches_the_installed_app(app, live_server, make_phone, push):
    citizen, clerk = make_phone(), make_phone()
    staff = db.session.scalar(select(User).where(User.username == "clerk"))
    window = staff.hall.windows[0]
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == ITEM))
    me = db.session.scalar(select(User).where(User.phone == "13800138000")) or \
        factories.citizen("13800138000")
    others = [factories.citizen(f"1360000000{n}") for n in range(4)]
    for n, owner in enumerate([*others, me]):
        mine = _checked_in(owner, item, staff.hall_id, window.group, n)
    data = push.subscription("phone")
    db.session.add(PushSubscription(user_id=me.id, endpoint=data["endpoint"], **data["keys"]))
    db.session.commit()

    c = citizen.page
    sign_in(citizen, "13800138000", f"/bookings/{mine.id}/ticket")
    citizen.context.grant_permissions(["notifications"], origin=live_server)
    c.evaluate("navigator.serviceWorker.ready.then(() => true)")

    k = clerk.page
    k.goto("/staff/login")
    k.fill("#username", "clerk")
    k.fill("#password", "clerk-demo-2026")
    k.click("button[type=submit]")
    k.wait_for_load_state()
    k.goto("/clerk/queue")
    k.select_option("#window_id", str(window.id))
    k.click("button:has-text('选用')")
    k.click("button:has-text('叫下一位')")
    k.wait_for_selector("#booking-current")
    deadline = time.monotonic() + 30
    while not push.received and time.monotonic() < deadline:
        k.wait_for_timeout(100)  # the push job: inline, or the worker beside the server
    assert push.refused == []
    [(_, payload)] = push.received
    assert payload["body"].endswith(f"前面还有 3 人,请到 {window.code} 窗口附近等候")
    assert db.session.scalar(select(SmsMessage).where(
        SmsMessage.phone == "13800138000", SmsMessage.template == "progress_called_soon")) is None

    # hand the decrypted message to the phone's service worker, as the push service would
    cdp = citizen.context.new_cdp_session(c)
    found = {}
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda e: found.update({r["scopeURL"]: r["registrationId"]
                                   for r in e["registrations"]}))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while f"{live_server}/" not in found and time.monotonic() < deadline:
        c.wait_for_timeout(100)
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": live_server, "registrationId": found[f"{live_server}/"],
        "data": json.dumps(payload, ensure_ascii=False)})
    shown = []
    deadline = time.monotonic() + 10
    while not shown and time.monotonic() < deadline:
        c.wait_for_timeout(200)
        shown = c.evaluate("navigator.serviceWorker.ready.then(r => r.getNotifications())"
                           ".then(ns => ns.map(n => [n.title, n.body]))")
    assert shown == [["快到您了", payload["body"]]]
    c.screenshot(path="/tmp/22b-near-turn-ticket.png", full_page=True)
    citizen.assert_clean()
    clerk.assert_clean()
