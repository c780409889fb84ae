"""Issue 21, point 5: 朗读 on guides, the booking receipt and the progress page reads the page's
main text with the browser's speech synthesis in zh-CN, and is hidden where there is none."""

import pytest
from e2e.browser import sign_in
from e2e.test_phone_faults import _book_first_free_slot, _narrow

FAKE_VOICE = """
window.__spoken = [];
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
  speak: function (u) { window.__spoken.push({text: u.text, lang: u.lang}); },
  cancel: function () {}}});
"""
NO_VOICE = """
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: undefined});
"""


def _read(page) -> dict:
    button = page.locator(".read-aloud")
    button.click()
    assert button.inner_text() == "停止朗读" and button.get_attribute("aria-pressed") == "true"
    [spoken] = page.evaluate("window.__spoken")
    button.click()
    assert button.inner_text() == "朗读"
    return spoken


@pytest.mark.parametrize("width, care", [(320, True), (390, False)])
def test_read_aloud_on_guide_receipt_and_progress(make_phone, width, care):
    phone = make_phone(care=care)
    phone.context.add_init_script(FAKE_VOICE)
    _narrow(phone, width)
    page = phone.page
    page.goto("/services/SC-001")
    spoken = _read(page)
    assert spoken["lang"] == "zh-CN" and "营业执照变更登记" in spoken["text"]
    assert "需要带的材料" in spoken["text"] and "朗读" not in spoken["text"]
    sign_in(phone, "13800138000", "/bookings")
    number = _book_first_free_slot(page)
    assert number in _read(page)["text"]
    booking_id = page.url.rsplit("/", 1)[1]
    page.goto(f"/progress/booking/{booking_id}")
    assert number in _read(page)["text"]
    phone.assert_clean()


def test_hidden_where_the_browser_cannot_speak(make_phone):
    phone = make_phone(wechat=True, care=True)
    phone.context.add_init_script(NO_VOICE)
    _narrow(phone, 320)
    phone.page.goto("/services/SC-001")
    phone.page.wait_for_load_state("load")
    assert phone.page.locator(".read-aloud").is_hidden()
    assert phone.page.locator(".read-aloud-bar").is_hidden()
    phone.assert_clean()
