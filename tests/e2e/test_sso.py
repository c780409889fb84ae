"""A phone signs in through the unified identity provider, links its phone once, signs in again."""

import pytest
from e2e.browser import sign_in
from fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOIDCProvider
from fakes.wechat_provider import APP_ID, APP_SECRET, FakeWeChatProvider

from app.extensions import limiter
from app.sso import clients


@pytest.fixture(scope="module")
def idp():
    provider = FakeOIDCProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def providers(app, idp, monkeypatch):
    idp.reset()
    wx = FakeWeChatProvider().start()
    settings = {"OIDC_ISSUER": idp.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": CLIENT_SECRET, "WECHAT_APP_ID": APP_ID,
                "WECHAT_APP_SECRET": APP_SECRET, "WECHAT_AUTHORIZE_URL": wx.authorize_url,
                "WECHAT_API_BASE": wx.base}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    with app.test_request_context():
        clients.oidc_client()
        clients.forget_metadata()
    yield idp, wx
    wx.stop()


def _code_from_outbox(phone) -> str:
    outbox = phone.context.new_page()
    outbox.goto("/dev/outbox")
    text = outbox.locator(".sms-text").first.inner_text()
    outbox.close()
    return "".join(ch for ch in text.split("验证码", 1)[1] if ch.isdigit())[:6]


def test_sign_in_link_the_phone_account_and_sign_in_again(make_phone, providers):
    idp, _wx = providers
    idp.user.update(sub="e2e-person-1", phone_number_verified=False)  # not vouched
    phone = make_phone()
    page = phone.page
    sign_in(phone, "13800138000", "/me")  # the citizen's phone account exists already
    page.click("text=退出登录")
    page.wait_for_url("**/")
    limiter.reset()  # as if a minute had passed: every code to a phone counts (issue 22)

    page.goto("/login?next=/me")
    page.click("text=统一身份认证登录")
    page.wait_for_url("**/sso/link")
    assert "您第一次用统一身份认证登录" in page.content()
    page.fill("#phone", "13800138000")
    page.click("text=获取验证码")
    page.wait_for_url("**/sso/link/verify")
    page.fill("#code", _code_from_outbox(phone))
    page.click("text=绑定并登录")  # agreed at the phone sign-in already: straight in
    page.wait_for_url("**/me")
    assert "已绑定统一身份认证" in page.locator(".notice").inner_text()
    methods = page.locator("#sso-methods").inner_text()
    assert "手机号验证码" in methods and "统一身份认证" in methods and "张三(已实名)" in methods

    page.click("text=退出登录")  # ends the provider's session too, then comes home
    page.wait_for_url("**/?state=*")
    assert idp.ended and idp.ended[-1]["client_id"] == CLIENT_ID

    page.goto("/login?next=/me")
    page.click("text=统一身份认证登录")
    page.wait_for_url("**/me")  # straight in, no phone asked
    assert page.locator(".profile-name").inner_text() == "张三"
    phone.assert_clean()


def _agree(page) -> None:
    page.wait_for_url("**/consent**")
    page.check("input[name=agree]")
    page.click("text=同意并继续")


def test_wechat_sign_in_inside_the_in_app_browser(make_phone, providers):
    plain = make_phone()
    plain.page.goto("/login")
    assert plain.page.locator("text=微信授权登录").count() == 0
    inside = make_phone(wechat=True)
    page = inside.page
    page.goto("/login?next=/me")
    page.click("text=微信授权登录")
    page.wait_for_url("**/sso/link#wechat_redirect")  # redirects keep the fragment
    assert "您第一次用微信登录" in page.content()
    page.fill("#phone", "13900139000")
    page.click("text=获取验证码")
    page.wait_for_url("**/sso/link/verify*")
    page.fill("#code", _code_from_outbox(inside))
    page.click("text=绑定并登录")
    _agree(page)
    page.wait_for_url("**/me*")
    assert "小李" in page.locator("#sso-method-wechat").inner_text()
    page.click("text=退出登录")
    page.wait_for_url("**/")
    page.goto("/login?next=/me")
    page.click("text=微信授权登录")
    page.wait_for_url("**/me*")  # straight in this time
    inside.assert_clean()
