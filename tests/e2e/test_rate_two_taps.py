"""好差评 in two taps from the SMS, in a WeChat-style browser at 320 and 390 px: the link opens
the faces at once, 满意 saves on the tap with 还想说说? after; 不满意 asks for reasons (several);
the link tapped again, in a fresh in-app browser, shows the rating given."""

import pytest
from conftest import shanghai
from e2e.test_ratings import _served_visit

from app.extensions import db
from app.ratings.models import Rating

pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)


def _targets_ok(page, width, selector):
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for box in (b.bounding_box() for b in page.locator(selector).all()):
        assert box["height"] >= 44 and box["width"] >= 44


@pytest.mark.parametrize("width", [320, 390])
def test_good_rating_in_two_taps(app, make_phone, width):
    phone = make_phone(wechat=True)
    page = phone.page
    page.set_viewport_size({"width": width, "height": 740})
    invite, link = _served_visit(app)
    invite_id = invite.id
    page.goto(link)  # tap 1: the SMS link
    page.wait_for_url(f"**/ratings/{invite_id}")
    assert page.locator(".faces .face").count() == 5
    _targets_ok(page, width, ".faces .face")
    page.click(".face-4")  # tap 2: 满意, saved
    page.wait_for_url("**/thanks")
    assert "感谢您的评价" in page.content()
    db.session.remove()
    assert db.session.query(Rating).filter_by(invite_id=invite_id).one().score == 4
    page.click("text=分项评价和补充说明")  # 还想说说?
    page.click("#say-more .indicator >> nth=0 >> label:has-text('非常满意')")
    page.fill("#reason_text", "窗口很耐心")
    page.click("text=补充提交")
    page.wait_for_selector("text=已收到您的补充")
    db.session.remove()
    assert db.session.query(Rating).filter_by(invite_id=invite_id).one().reason_text == "窗口很耐心"
    phone.assert_clean()


@pytest.mark.parametrize("width", [320, 390])
def test_bad_rating_asks_for_reasons(app, make_phone, width):
    phone = make_phone(wechat=True, care=width == 320)
    page = phone.page
    page.set_viewport_size({"width": width, "height": 740})
    invite, link = _served_visit(app)
    invite_id = invite.id
    page.goto(link)
    page.click(".face-1")
    page.wait_for_url("**/details?score=1**")
    assert page.locator("details.more-details").get_attribute("open") is None  # folded
    page.click("label:has-text('服务态度不好')")
    page.click("label:has-text('多次跑动')")
    _targets_ok(page, width, "form.card > button[type=submit]")
    page.click("text=提交评价")
    page.wait_for_url("**/thanks")
    db.session.remove()
    rating = db.session.query(Rating).filter_by(invite_id=invite_id).one()
    assert rating.reasons == ["attitude", "repeat"]
    phone.assert_clean()
    again = make_phone(wechat=True, care=width == 320)  # the SMS tapped again: a new browser
    again.page.set_viewport_size({"width": width, "height": 740})
    again.page.goto(link)
    again.page.wait_for_url(f"**/ratings/r/{rating.id}/thanks")
    text = again.page.locator("main").inner_text()
    assert "您已经评价过这次服务了" in text and "非常不满意" in text
    assert "服务态度不好、多次跑动" in text and rating.number in text
    assert again.page.evaluate("document.documentElement.scrollWidth") <= width
    again.assert_clean()
