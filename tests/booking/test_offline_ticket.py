"""Issue 21, point 6: what the receipt hands the phone for offline use, and the worker's rules."""

import re
from datetime import date

import pytest
from conftest import Auth, shanghai


@pytest.mark.time_machine(shanghai("2026-12-04 10:00"), tick=True)  # a Friday morning
def test_the_owners_receipt_carries_the_ticket_and_nothing_personal(world, client, auth, app):
    auth.login_citizen("13800138000")
    assert world.book(client, world.slot(0, date(2026, 12, 7))).status_code == 303
    booking = world.booking()[0]
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    tag = re.search(r'<section class="card booking-receipt"([^>]*)>', page).group(1)
    assert "data-offline-ticket" in tag and 'data-status="booked"' in tag
    assert f'data-number="{booking.number}"' in tag and 'data-when="12月07日(周一) 09:00-09:30"' \
        in tag and world.hall.name in tag
    assert "13800138000" not in tag and "138****8000" not in tag
    assert 'data-ends="' in tag and tag.count("Z\"") == 1
    # someone else holding a link to it does not keep it on their phone
    from app.core.links import make_link

    with app.test_request_context("/"):
        link = make_link("progress", "booking", booking.id)
    other = app.test_client()
    Auth(other).login_citizen("13900139000")
    other.get("/t/" + link.rsplit("/t/", 1)[1])
    seen = other.get(f"/bookings/{booking.id}")
    if seen.status_code == 200:
        assert "data-offline-ticket" not in seen.get_data(as_text=True)


def test_the_offline_page_has_the_ticket_place_and_the_worker_caches_only_guides(client):
    offline = client.get("/offline").get_data(as_text=True)
    assert 'id="offline-tickets" data-offline-tickets hidden' in offline
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
