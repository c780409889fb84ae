"""一号查询 for people not signed in, at 320 and 390 px: 我要查 and the 进度 tab offer two large
buttons; the sign-in page reached from there offers the lookup; care mode has it on home."""

import pytest
from conftest import shanghai

pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)


def _big(page, selector, height):
    for box in (b.bounding_box() for b in page.locator(selector).all()):
        assert box["height"] >= height and box["width"] >= 44


@pytest.mark.parametrize("width", [320, 390])
def test_signed_out_choice_from_home_and_tab(make_phone, width):
    phone = make_phone(wechat=width == 390)
    page = phone.page
    page.set_viewport_size({"width": width, "height": 740})
    page.goto("/")
    page.click(".entry:has-text('我要查')")
    page.wait_for_url("**/progress/find")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    _big(page, ".choice-big .button", 56)
    page.click("text=按办件编号/预约号查询")
    page.wait_for_url("**/progress/lookup")
    page.click(".tabbar >> text=进度")
    page.wait_for_url("**/progress/find")
    page.click("text=登录查看我的办件")
    page.wait_for_url("**/login?next=/progress/mine")
    assert page.locator("#lookup-offer").is_visible()
    page.click("#lookup-offer >> text=按办件编号/预约号查询")
    page.wait_for_url("**/progress/lookup")
    phone.assert_clean()


def test_care_mode_home_has_the_lookup(make_phone):
    phone = make_phone(care=True)
    page = phone.page
    page.set_viewport_size({"width": 320, "height": 740})
    page.goto("/")
    card = page.locator("#care-lookup")
    assert card.is_visible()
    _big(page, "#care-lookup .button", 56)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.fill("#care-number", "YS2611230001")
    page.click("#care-lookup button[type=submit]")
    page.wait_for_url("**/progress/lookup?number=YS2611230001")
    assert page.input_value("#number") == "YS2611230001"
    phone.assert_clean()
