"""Issue 21, point 6: the booking ticket works offline. The receipt keeps number, time, hall and
QR code on the phone; the offline page shows them under 您的预约(离线可出示); guides and
一次性告知单 are cached network-first by the service worker; personal pages never are; signing
out forgets the ticket."""

import pytest
from e2e.browser import sign_in
from e2e.test_phone_faults import NO_SIDEWAYS, _book_first_free_slot, _narrow

TICKETS = "JSON.parse(localStorage.getItem('palm.tickets') || '[]')"
CACHED = """caches.open('palm-guides').then((c) => c.keys())
  .then((keys) => keys.map((r) => new URL(r.url).pathname))"""


def _sign_out(page):
    page.goto("/me")
    page.locator("form[data-signs-out] button").first.click()
    page.wait_for_load_state("load")


def _ticket_shown(page, number):
    section = page.locator("#offline-tickets")
    assert section.is_visible() and "您的预约(离线可出示)" in section.inner_text()
    assert number in section.inner_text()
    assert section.locator(".qr-box svg path").count() == 1
    assert page.evaluate(NO_SIDEWAYS)


@pytest.mark.parametrize("width, care", [(320, True), (390, False)])
def test_offline_the_ticket_and_the_guides_show_personal_pages_do_not(make_phone, width, care):
    phone = make_phone(care=care)
    _narrow(phone, width)
    page = phone.page
    sign_in(phone, "13800138000", "/bookings")
    number = _book_first_free_slot(page)
    # The receipt keeps its ticket at DOMContentLoaded (ticket.js is deferred), which on a loaded
    # machine can come after #booking-number is already on the page
    page.wait_for_function(f"() => {TICKETS}.length > 0")
    [kept] = page.evaluate(TICKETS)
    assert kept["number"] == number and kept["hall"] and "月" in kept["when"]
    assert set(kept) == {"number", "item", "when", "hall", "address", "ends", "qr"}  # no phone/ID
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto("/services/SC-001")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    for path in ("/services/SC-001", "/services/SC-001/checklist"):
        page.goto(path)  # through the worker: kept for later
    page.wait_for_function(f"() => {CACHED}.then((p) => p.length >= 2)")

    phone.context.set_offline(True)
    page.goto("/services/SC-001")
    assert "营业执照变更登记" in page.inner_text("main") and "网络已断开" not in page.content()
    page.goto("/services/SC-001/checklist")
    assert "请带齐以下材料" in page.inner_text("main")
    for personal in ("/bookings", "/progress/mine", "/me"):
        page.goto(personal)
        assert "暂时连不上网络" in page.inner_text("main"), personal
        _ticket_shown(page, number)
    phone.context.set_offline(False)
    cached = page.evaluate(CACHED)
    assert cached and all(p.startswith(("/services/", "/bundles/")) for p in cached), cached

    _sign_out(page)
    assert page.evaluate(TICKETS) == []
    page.goto("/offline")
    assert page.locator("#offline-tickets").is_hidden()
    phone.assert_clean()


def test_in_wechat_without_a_service_worker_the_ticket_is_kept_too(make_phone):
    phone = make_phone(wechat=True, care=True)
    _narrow(phone, 390)
    page = phone.page
    sign_in(phone, "13800138000", "/bookings")
    number = _book_first_free_slot(page)
    # the receipt keeps its ticket at DOMContentLoaded; leaving before that would keep none
    page.wait_for_function(f"() => {TICKETS}.length > 0")
    page.goto("/offline")
    _ticket_shown(page, number)
    # cancelling the booking forgets it
    page.goto("/bookings")
    page.locator(".row-link", has_text=number).first.click()
    page.click("text=取消预约")
    page.click("button:has-text('确定取消')")
    page.wait_for_selector("text=已取消")
    page.wait_for_function(f"() => {TICKETS}.length === 0")  # at DOMContentLoaded, as above
    phone.assert_clean()
