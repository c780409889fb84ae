"""Done when: on a phone a citizen books, gets the SMS, cancels and rebooks; a clerk checks the
booking in by its number and calls it; the hall display and the citizen's ticket follow by
themselves. They poll every 2 and 3 seconds (tests/booking/test_queue.py checks the intervals);
the waits here are longer, so that a busy machine cannot fail them."""

import re

from e2e.browser import sign_in
from e2e.test_phone_faults import _book_first_free_slot  # a later day's: cancellable
from sqlalchemy import select

from app.booking.models import Booking
from app.extensions import db

FOLLOWS = 20_000  # ms: a few polls, however busy the machine


def test_book_cancel_rebook_check_in_and_call(app, make_phone):
    citizen = make_phone()
    c = citizen.page
    sign_in(citizen, "13800138000", "/bookings")
    number = _book_first_free_slot(c)
    assert re.fullmatch(r"\d{8}", number)
    assert c.locator(".qr-box svg").count() == 1 and "需要带的材料" in c.content()
    outbox = citizen.context.new_page()
    outbox.goto("/dev/outbox")
    assert number in outbox.locator(".sms-text").first.inner_text()
    outbox.close()

    c.click("text=取消预约")
    c.click("button:has-text('确定取消')")
    c.wait_for_selector("text=已取消")
    number = _book_first_free_slot(c)

    # The demo's slots are in the coming days: move this booking to today so it can check in.
    booking = db.session.scalar(select(Booking).where(Booking.number == number))
    with app.test_request_context():
        from app.booking import services

        booking.day = services.local_today()
    db.session.commit()

    clerk = make_phone()
    k = clerk.page
    k.goto("/staff/login")
    k.fill("#username", "clerk")
    k.fill("#password", "clerk-demo-2026")
    k.click("button[type=submit]")
    k.wait_for_load_state()
    k.goto("/clerk/queue")
    k.select_option("#window_id", index=1)  # the first is "请选择窗口"
    k.click("button:has-text('选用')")
    k.fill("#number", number)
    k.click("button:has-text('签到取号')")
    k.wait_for_selector(".issued-code")
    code = k.locator(".issued-code").inner_text()

    c.goto(f"/bookings/{booking.id}/ticket")
    assert c.locator(".ticket-code").inner_text() == code
    assert "前面还有" in c.content()

    display = make_phone()
    d = display.page
    d.goto(f"/halls/{booking.hall_id}/display")

    k.click("button:has-text('叫下一位')")
    k.wait_for_selector("#booking-current")
    d.wait_for_selector(f".display-code:has-text('{code}')", timeout=FOLLOWS)
    c.wait_for_selector(".ticket-call", timeout=FOLLOWS)
    assert "请到" in c.locator(".ticket-call").inner_text()
    k.click("button:has-text('办理完毕')")
    k.wait_for_selector("button:has-text('叫下一位')")
    c.wait_for_selector("text=已办理完毕", timeout=FOLLOWS)
    for phone in (citizen, clerk, display):
        phone.assert_clean()
