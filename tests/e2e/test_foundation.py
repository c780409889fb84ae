"""A phone signs in with the SMS code, sees home, switches care mode; no errors, no CSP hits."""

import json

from e2e.browser import sign_in


def test_sign_in_with_the_code_from_the_outbox(phone):
    sign_in(phone, "13800138000", "/me")
    page = phone.page
    assert page.locator(".profile-name").inner_text() == "张三"
    assert "138****8000" in page.content()
    page.click(".tabbar >> text=首页")
    page.wait_for_url("**/")
    assert page.locator(".entry").count() == 5
    phone.assert_clean()


def test_bad_code_shows_a_chinese_message_and_keeps_it(phone):
    page = phone.page
    page.goto("/login")
    page.fill("#phone", "13800138001")
    page.click("text=获取验证码")
    page.wait_for_selector("#code-status:has-text('验证码已发送')")
    page.fill("#code", "12")
    page.click("button:has-text('登录')")
    assert "请输入 6 位数字验证码" in page.locator(".field-error").inner_text()
    assert page.input_value("#code") == "12"


def test_care_mode_switch_is_remembered(phone):
    page = phone.page
    page.goto("/")
    body_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_size == 16
    page.click(".care-btn")  # the public home page links to the switch's own page
    page.wait_for_url("**/care?next=/")
    page.click(".care-switch")
    page.wait_for_url("**/")
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.classList.contains('care')")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    page.goto("/services")
    assert page.evaluate("document.documentElement.classList.contains('care')")
    phone.assert_clean()


def test_touch_targets_are_at_least_44px(phone):
    page = phone.page
    for path in ["/", "/login", "/services"]:
        page.goto(path)
        small = page.evaluate("""() => [...document.querySelectorAll(
            'a.button, button, .tab, .entry, .chip, input.input, .row-link, .select')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.textContent.trim().slice(0, 12), e.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)""")
        assert small == [], (path, small)


def test_readable_at_320px_without_sideways_scrolling(make_phone):
    phone = make_phone()
    page = phone.page
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ["/", "/login", "/services", "/services/SC-003", "/halls"]:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path


def test_live_search_updates_without_reload(phone):
    page = phone.page
    page.goto("/services")
    page.fill("#q", "饭店")
    page.wait_for_selector("#results:has-text('“饭店”的搜索结果')")
    assert "我要开饭店" in page.locator("#results").inner_text()
    assert "q=%E9%A5%AD%E5%BA%97" in page.url
    phone.assert_clean()


def test_manifest_and_service_worker_are_valid(phone, live_server):
    page = phone.page
    page.goto("/")
    href = page.get_attribute("link[rel=manifest]", "href")
    manifest = json.loads(page.request.get(href).text())
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    registered = page.evaluate("""async () => {
        const reg = await navigator.serviceWorker.ready;
        return reg.active ? reg.active.scriptURL : null; }""")
    assert registered.endswith("/sw.js")
    phone.assert_clean()


def test_in_app_browser_works_without_a_service_worker(make_phone):
    phone = make_phone(wechat=True)
    page = phone.page
    page.goto("/services/HJ-001")
    assert "出生医学证明" in page.content()
    assert page.evaluate("navigator.serviceWorker ? 'sw' : 'none'") in ("sw", "none")
    phone.assert_clean()
