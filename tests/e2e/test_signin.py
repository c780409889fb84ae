"""Sign-in and 一号查询 on one screen at 320 and 390 px: the inline 获取验证码 button counts down
the server's own limit; without JavaScript the two-step form still works."""

import re
import time

import pytest
from conftest import shanghai
from e2e.browser import accept_terms, code_from_outbox

import factories
from app.extensions import db
from app.progress.registry import unregister_matter_kind

pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
COUNTING = re.compile(r"^\d+ 秒后重发$")


@pytest.fixture
def matters():
    fake = factories.FakeMatters().register()
    yield fake
    unregister_matter_kind(fake.kind)


def _lookup_code(phone, seconds: float = 30) -> str:
    """The lookup code is sent by a job (with Redis a moment after the page)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return code_from_outbox(phone)
        except IndexError:
            if time.monotonic() > deadline:
                raise
            phone.page.wait_for_timeout(100)


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator("[data-code-button]").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44


@pytest.mark.parametrize("width", [320, 390])
def test_sign_in_on_one_screen(make_phone, width):
    phone = make_phone()
    page = phone.page
    page.set_viewport_size({"width": width, "height": 740})
    page.goto("/login?next=/me")
    _fits(page, width)
    page.fill("#phone", "13800138000")
    page.click("text=获取验证码")
    page.wait_for_selector("#code-status:has-text('验证码已发送至 138****8000')")
    page.wait_for_selector("[data-code-button]:disabled")  # counting once htmx has settled
    button = page.locator("[data-code-button]")
    assert COUNTING.match(button.inner_text())
    seconds = int(button.inner_text().split()[0])
    assert 55 <= seconds <= 60  # the server's "1/minute", not a number in the page's script
    assert page.url.endswith("/login?next=/me")  # the same screen
    page.reload()  # the wait survives a reload: the page is told what is left
    page.wait_for_selector("[data-code-button]:disabled")
    assert COUNTING.match(page.locator("[data-code-button]").inner_text())
    page.fill("#phone", "13800138000")
    page.fill("#code", code_from_outbox(phone))
    accept_terms(page)
    page.click("button[data-signin-submit]")
    page.wait_for_url("**/me")
    assert "138****8000" in page.content()
    phone.assert_clean()


def test_bad_phone_says_so_in_place(make_phone):
    phone = make_phone(care=True)
    page = phone.page
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/login")
    page.fill("#phone", "12345")
    page.click("text=获取验证码")
    page.wait_for_selector(".code-status-error:has-text('请输入正确的 11 位手机号码')")
    assert page.input_value("#phone") == "12345"
    assert page.locator("[data-code-button]").is_enabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_without_javascript_the_two_step_form_works(browser, live_server, runner):
    from e2e.conftest import PHONE_UA

    runner.invoke(args=["demo", "load"])
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True,
                                  user_agent=PHONE_UA, java_script_enabled=False,
                                  base_url=live_server, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto("/login?next=/me")
        page.fill("#phone", "13800138000")
        page.click("text=获取验证码")
        page.wait_for_url("**/login/verify**")
        assert "请 " in page.content() and "秒后再点" in page.content()
        from app.sms.models import SmsMessage

        db.session.remove()
        message = db.session.query(SmsMessage).filter_by(phone="13800138000").order_by(
            SmsMessage.id.desc()).first()
        page.fill("#code", message.params["code"])
        accept_terms(page)
        page.click("button:has-text('登录')")
        page.wait_for_url("**/me")
    finally:
        context.close()


@pytest.mark.parametrize("width", [320, 390])
def test_lookup_on_one_screen(make_phone, matters, width):
    matter = matters.add(factories.citizen("13700137000"), steps=["已受理,正在办理"])
    db.session.commit()
    phone = make_phone(wechat=True)
    page = phone.page
    page.set_viewport_size({"width": width, "height": 740})
    page.goto("/progress/lookup")
    _fits(page, width)
    page.fill("#number", matter.number)
    page.click("text=获取验证码")
    page.wait_for_selector("#code-status:has-text('验证码已发送')")
    page.wait_for_selector("[data-code-button]:disabled")
    assert COUNTING.match(page.locator("[data-code-button]").inner_text())
    page.fill("#code", _lookup_code(phone))
    page.click("button:has-text('查看进度')")
    page.wait_for_url(f"**/progress/testcase/{matter.id}")
    phone.assert_clean()
