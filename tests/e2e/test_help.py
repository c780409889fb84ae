"""Done when: in phone-sized browsers an elderly citizen in care mode asks for a home visit, a
helper accepts, books on their behalf, the citizen confirms by SMS code and later rates."""

import re

from e2e.browser import sign_in
from sqlalchemy import select

from app.booking.models import Booking
from app.extensions import db
from app.help.models import HelpRequest


def _latest_sms(phone, words: str) -> str:
    outbox = phone.context.new_page()
    outbox.goto("/dev/outbox")
    text = outbox.locator(".sms-text").filter(has_text=words).first.inner_text()
    outbox.close()
    return text


def _staff_sign_in(phone, username: str, password: str) -> None:
    page = phone.page
    page.goto("/staff/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_care_mode_home_visit_booked_on_behalf_confirmed_by_code_then_rated(make_phone):
    elder = make_phone(care=True)
    helper = make_phone()
    c = elder.page

    sign_in(elder, "13800138000", "/")
    assert "care" in (c.locator("html").get_attribute("class") or "")
    c.click("#care-help >> text=申请上门服务")
    c.wait_for_url("**/help/new?mode=home")
    assert c.locator("#mode-home").is_checked()
    c.select_option("#hall_id", label="乌兰浩特市政务服务中心")
    c.fill("#address", "科尔沁右翼前旗索伦镇幸福村 3 组")
    c.fill("#reason", "年纪大了,腿脚不便")
    c.select_option("#area_id", label="兴安街道")
    c.click("text=提交帮办申请")
    # an address outside the hall's area: told why, with what was typed kept
    assert "不在乌兰浩特市政务服务中心上门服务范围内" in c.locator("#area_id-error").inner_text()
    assert c.input_value("#reason") == "年纪大了,腿脚不便"
    assert elder.errors == [
        "Failed to load resource: the server responded with a status of 422 (UNPROCESSABLE "
        "ENTITY)"]
    elder.errors.clear()
    c.fill("#address", "兴安北大路 12 号 3 单元 501 室")
    c.click("text=提交帮办申请")
    c.wait_for_url(re.compile(r".*/help/\d+$"))
    number = c.locator("#help-number").inner_text()
    assert number.startswith("BB") and "待安排" in c.locator("#help-helper").inner_text()

    h = helper.page
    _staff_sign_in(helper, "clerk", "clerk-demo-2026")
    h.goto("/staff/help")
    h.locator(".help-row").filter(has_text=number).click()
    h.click("text=接单,由我帮办")
    h.fill("#text-review", "已电话联系,老人需办理户口迁移")
    h.click("#help-review button")
    h.select_option("#behalf-item", value="HJ-002")
    h.click("#help-behalf >> text=查看时段")
    slot_label = h.locator("#help-behalf .choice").first.inner_text()
    h.click("text=代为预约,发验证码给群众确认")
    h.wait_for_load_state()
    assert "待您确认" in h.locator(".help-behalf-row").first.inner_text()

    c.reload()
    assert "请确认:帮办员代您预约" in c.locator("#help-confirm").inner_text()
    text = _latest_sms(elder, "代您预约")
    code = "".join(ch for ch in text.split("验证码", 1)[1] if ch.isdigit())[:6]
    c.fill("#code", code)
    c.click("#help-confirm button")
    c.wait_for_url(re.compile(r".*/bookings/\d+$"))
    assert "预约成功" in c.content()
    assert slot_label.split("(")[0].split("-")[0] in c.locator(".summary").inner_text()
    booking = db.session.scalar(select(Booking).order_by(Booking.id.desc()))
    assert booking.citizen.phone == "13800138000"

    h.reload()
    assert booking.number in h.locator(".help-behalf-row").first.inner_text()
    h.fill("#text-feedback", "已代您预约,明天上午工作人员上门核验材料")
    h.click("#help-feedback button")
    h.fill("#text-accept", "已上门核验材料并代为提交")
    h.click("#help-accept button")
    h.wait_for_load_state()
    assert "已受理" in h.content()

    c.goto("/help/mine")
    c.locator(".row-link").filter(has_text=number).click()
    assert "已上门核验材料" in c.content() or "已代您预约" in c.content()
    c.click("text=评价本次服务")
    c.click(".face-5")  # saved on the tap
    c.wait_for_url("**/thanks")
    row = db.session.scalar(select(HelpRequest).where(HelpRequest.number == number))
    c.goto(f"/help/{row.id}")
    assert "您已评价" in c.locator("#help-rate").inner_text()
    elder.assert_clean()
    helper.assert_clean()
