"""Issue 21, point 6: what the receipt hands the phone for offline use, and the worker's rules."""

import re
from datetime import date

import pytest
from conftest import Auth, shanghai
from html_kit import attrs, one


@pytest.mark.time_machine(shanghai("2026-12-04 10:00"), tick=True)  # a Friday morning
def test_the_owners_receipt_carries_the_ticket_and_nothing_personal(world, client, auth, app):
    auth.login_citizen("13800138000")
    assert world.book(client, world.slot(0, date(2026, 12, 7))).status_code == 303
    booking = world.booking()[0]
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    tag = attrs(page, "section.booking-receipt")
    assert "data-offline-ticket" in tag and tag["data-status"] == "booked"
    assert tag["data-number"] == booking.number and tag["data-when"] == "12月07日(周一) 09:00-09:30"
    assert tag["data-hall"] == world.hall.name
    # no phone, whole or masked (not "138" anywhere: a random booking number may hold it)
    assert not any(shown in str(value) for value in tag.values()
                   for shown in ("13800138000", "138****8000", "****"))
    assert tag["data-ends"] == "2026-12-07T01:30:00Z"
    # someone else holding a link to it does not keep it on their phone
    from app.core.links import make_link

    with app.test_request_context("/"):
        link = make_link("progress", "booking", booking.id)
    other = app.test_client()
    Auth(other).login_citizen("13900139000")
    other.get("/t/" + link.rsplit("/t/", 1)[1])
    seen = other.get(f"/bookings/{booking.id}")  # the link lets them see it, not keep it
    assert seen.status_code == 200
    assert "data-offline-ticket" not in attrs(seen, "section.booking-receipt")


def test_the_offline_page_has_the_ticket_place_and_the_worker_caches_only_guides(client):
    offline = client.get("/offline").get_data(as_text=True)
    place = one(offline, "section#offline-tickets")
    assert place.has_attr("data-offline-tickets") and place.has_attr("hidden")
    assert "您的预约(离线可出示)" in offline and "js/ticket.js" in offline
    worker = client.get("/sw.js").get_data(as_text=True)
    rule = re.search(r"const PUBLIC_PAGE = /(.+)/;", worker).group(1).replace("\\/", "/")
    pattern = re.compile(rule)
    for public in ("/services/SC-001", "/services/SC-001/checklist", "/bundles/YJS-KFD",
                   "/bundles/YJS-KFD/checklist", "/services/SC-001/checklist.png"):
        assert pattern.match(public), public
    for personal in ("/bookings", "/bookings/1", "/progress/mine", "/applications/1", "/me",
                     "/ratings/mine", "/services/SC-001/checklist/x", "/t/abc"):
        assert not pattern.match(personal), personal
    assert "js/ticket.js" in worker  # the offline page can show the ticket without a network
