"""Issue 21, point 4 on phones: a booking made at 320 px in care mode inside WeChat (and at 390 px
in a browser) sends the code and the booking confirmation, nothing else; the dev outbox reads at
that width."""

import pytest
from e2e.browser import sign_in
from e2e.test_phone_faults import NO_SIDEWAYS, _book_first_free_slot, _narrow


@pytest.mark.parametrize("width, care, wechat", [(320, True, True), (390, False, False)])
def test_a_booking_sends_its_code_and_its_confirmation_only(make_phone, width, care, wechat):
    phone = make_phone(care=care, wechat=wechat)
    _narrow(phone, width)
    page = phone.page
    sign_in(phone, "13800138000", "/bookings")
    before = page.context.new_page()
    before.goto("/dev/outbox")
    seen = before.locator(".sms").count()
    before.close()
    number = _book_first_free_slot(page)
    page.goto("/dev/outbox")
    texts = page.locator(".sms-text").all_inner_texts()
    new = texts[: len(texts) - seen]  # newest first
    assert len(new) == 1 and "预约成功" in new[0] and number in new[0]
    assert page.evaluate(NO_SIDEWAYS)
    phone.assert_clean()
