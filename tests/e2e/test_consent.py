"""Consent at 320 and 390 px: the sign-in form's unticked 《用户服务协议》《隐私政策》 box, the
documents themselves, and the sensitive-information consent before an application's first photo."""

import pytest
from conftest import shanghai
from e2e.browser import agree_sensitive, code_from_outbox, sign_in

pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)


@pytest.mark.parametrize("width", [320, 390])
def test_sign_in_asks_for_the_agreement(make_phone, width):
    phone = make_phone(care=width == 320)
    page = phone.page
    page.set_viewport_size({"width": width, "height": 740})
    page.goto("/login?next=/me")
    box = page.locator("input[name=agree]")
    assert not box.is_checked()
    page.fill("#phone", "13800138000")
    page.click("text=获取验证码")
    page.wait_for_selector("#code-status:has-text('验证码已发送')")
    page.fill("#code", code_from_outbox(phone))
    page.click("button[data-signin-submit]")
    page.wait_for_selector("#agree-error")
    assert "请阅读并勾选同意" in page.inner_text("#agree-error")
    assert page.input_value("#phone") == "13800138000" and len(page.input_value("#code")) == 6
    phone.errors.clear()  # the 400 was the point
    page.locator("label.agree-choice").click(position={"x": 10, "y": 10})
    assert box.is_checked()
    label = page.locator("label.agree-choice").bounding_box()
    assert label["height"] >= 44
    page.click("button[data-signin-submit]")
    page.wait_for_url("**/me")
    phone.assert_clean()


@pytest.mark.parametrize("path", ["/terms", "/privacy"])
def test_documents_read_at_320(make_phone, path):
    phone = make_phone(wechat=True)
    page = phone.page
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.locator("article.legal h2").count() >= 6
    phone.assert_clean()


@pytest.mark.parametrize("width", [320, 390])
def test_sensitive_consent_before_the_first_photo(make_phone, width):
    phone = make_phone()
    page = phone.page
    page.set_viewport_size({"width": width, "height": 740})
    sign_in(phone, "13800138000", "/apply/SC-001")
    page.click("button:has-text('开始申请')")
    page.fill("#name", "张三")
    page.fill("#id_number", "11010519491231002X")
    from e2e.browser import fill_licence_change

    fill_licence_change(page)
    page.click("button:has-text('下一步')")
    page.wait_for_url("**/materials")
    assert page.locator("#sensitive-consent").is_visible()
    assert page.locator(".app-material").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    agree_sensitive(page)
    assert page.locator(".app-material").count() >= 1
    phone.assert_clean()
