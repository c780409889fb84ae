"""寄出 at phone size (issue 22, point 2): the citizen asks for courier delivery, the clerk
enters the company and the 运单号 on a phone, the citizen sees it on the timeline and by SMS."""

import pytest
from e2e.browser import sign_in
from sqlalchemy import select

import factories
from app.auth.models import User
from app.extensions import db
from app.progress.registry import unregister_matter_kind
from app.sms.models import SmsMessage


@pytest.fixture
def matters():
    fake = factories.FakeMatters().register()
    yield fake
    unregister_matter_kind(fake.kind)


def test_courier_delivery_end_to_end(make_phone, matters):
    citizen, clerk = make_phone(), make_phone()
    staff = db.session.scalar(select(User).where(User.username == "clerk"))
    owner = db.session.scalar(select(User).where(User.phone == "13800138000")) or \
        factories.citizen("13800138000")
    matter = matters.add(owner, completed=True, status=("已办结", "success"),
                         hall_id=staff.hall_id)

    page = citizen.page
    sign_in(citizen, "13800138000", f"/progress/testcase/{matter.id}")
    page.click("text=选择领取方式")
    page.check("input[value='courier']")
    page.click("button:has-text('下一步')")
    page.fill("#delivery-name", "王芳")
    page.fill("#delivery-address", "兴安盟乌兰浩特市和平街 8 号 2 单元 301")
    page.click("button:has-text('下一步')")
    page.click("button:has-text('确认')")
    page.wait_for_url(f"**/progress/testcase/{matter.id}")
    assert "寄出后会短信告诉您快递单号" in page.inner_text("body")

    c = clerk.page
    c.goto("/staff/login")
    c.fill("#username", "clerk")
    c.fill("#password", "clerk-demo-2026")
    with c.expect_navigation():
        c.click("button:has-text('登录')")
    c.goto("/staff")
    c.click("text=快递寄送")
    c.wait_for_url("**/staff/deliveries")
    row = c.locator(".delivery-row").filter(has_text=matter.number)
    assert "和平街 8 号" in row.inner_text()
    row.locator("select").select_option("顺丰速运")
    row.locator("input[name='tracking_no']").fill("SF12")
    row.locator("button").click()
    assert "请输入正确的快递单号" in c.inner_text("body")
    clerk.errors.remove("Failed to load resource: the server responded with a status of 400 "
                        "(BAD REQUEST)")  # the refused number, on purpose
    row = c.locator(".delivery-row").filter(has_text=matter.number)
    assert row.locator("input[name='tracking_no']").input_value() == "SF12"  # kept
    row.locator("input[name='tracking_no']").fill("SF1234567890")
    row.locator("button").click()
    c.wait_for_url("**/staff/deliveries")
    assert "现在没有待寄出的结果" in c.inner_text("#deliveries-waiting")
    width = c.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    c.screenshot(path="/tmp/22b-courier-clerk.png", full_page=True)

    page.reload()
    assert "顺丰速运,单号 SF1234567890" in page.inner_text("#delivery-tracking")
    assert "结果已寄出:顺丰速运,单号 SF1234567890" in page.inner_text(".progress-timeline")
    page.screenshot(path="/tmp/22b-courier-citizen.png", full_page=True)
    sms = db.session.scalar(select(SmsMessage).where(
        SmsMessage.template == "progress_delivery_sent"))
    assert sms is not None and "SF1234567890" in sms.text
    citizen.assert_clean()
    clerk.assert_clean()
