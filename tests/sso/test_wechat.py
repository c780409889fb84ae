"""WeChat-style web authorization inside the in-app browser, against a fake on loopback."""

from fakes.wechat_provider import APP_ID, APP_SECRET
from html_kit import hrefs
from sqlalchemy import select

from app.extensions import db
from app.sms.models import SmsMessage
from app.sso.models import IdentityLink

START = "/sso/wechat/login?next=/me"


def _link(subject="oPalm-openid-0001"):
    return db.session.scalar(select(IdentityLink).where(
        IdentityLink.provider == "wechat", IdentityLink.subject == subject))


def _confirm_phone(client, phone="13800138000"):
    client.post("/sso/link/code", data={"phone": phone})
    message = db.session.scalar(select(SmsMessage).where(SmsMessage.phone == phone)
                                .order_by(SmsMessage.id.desc()))
    return client.post("/sso/link/verify", data={"code": message.params["code"]})


def test_no_route_until_configured(client, in_wechat):
    assert client.get(START, headers=in_wechat).status_code == 404
    assert "微信授权登录" not in client.get("/login", headers=in_wechat).get_data(as_text=True)


def test_button_only_inside_the_in_app_browser(client, wechat, in_wechat):
    assert "微信授权登录" not in client.get("/login").get_data(as_text=True)
    page = client.get("/login?next=/progress", headers=in_wechat).get_data(as_text=True)
    assert "/sso/wechat/login?next=/progress" in hrefs(page) and "微信授权登录" in page
    staff = client.get("/staff/login", headers=in_wechat).get_data(as_text=True)
    assert "微信授权登录" not in staff  # staff sign in through the identity provider only


def test_authorization_url_is_wechat_shaped(client, wechat, dance):
    url = dance.to_provider(START)
    args = dance.query(url.split("#")[0])
    assert url.startswith(wechat.authorize_url + "?") and url.endswith("#wechat_redirect")
    assert args["appid"] == APP_ID and "client_id" not in args
    assert args["scope"] == "snsapi_userinfo" and args["response_type"] == "code"
    assert args["redirect_uri"] == "http://localhost/sso/wechat/callback"
    assert len(args["state"]) >= 20


def test_first_time_asks_for_the_phone_then_signs_in_directly(client, wechat, dance):
    response = dance.run(START)
    assert response.headers["Location"] == "/sso/link"
    assert "微信" in client.get("/sso/link").get_data(as_text=True)
    assert dance.counts() == (0, 0) and not dance.signed_in()
    done = _confirm_phone(client)
    assert done.status_code == 303 and done.headers["Location"] == "/me"
    link = _link()
    assert link.union_id == "uPalm-unionid-0001" and link.display_name == "小李"
    assert link.user.phone == "13800138000" and not link.real_name_verified
    asked = client.get("/me")  # a new account: 用户服务协议 and 隐私政策 first
    assert asked.headers["Location"] == "/consent?next=/me"
    assert client.post("/consent", data={"agree": "1", "next": "/me"}).status_code == 303
    assert "微信" in client.get("/me").get_data(as_text=True)
    client.post("/logout")
    again = dance.run(START)
    assert again.status_code == 303 and again.headers["Location"] == "/me"
    assert dance.signed_in() and dance.counts() == (1, 1)


def test_base_scope_needs_no_profile(client, app, wechat, dance, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_SCOPE", "snsapi_base")
    assert dance.run(START).headers["Location"] == "/sso/link"
    _confirm_phone(client)
    link = _link()
    assert link.display_name is None and link.union_id is None


def test_logout_has_no_provider_step(client, wechat, dance):
    dance.run(START)
    _confirm_phone(client)
    assert client.post("/logout").headers["Location"] == "/"


# --- bad input --------------------------------------------------------------------------


def test_reused_code_is_refused(client, wechat, dance, sso_log):
    back = dance.at_provider(dance.to_provider(START))
    dance.back(back)  # the code is spent here
    _confirm_phone(client)
    client.post("/logout")
    fresh = dance.at_provider(dance.to_provider(START))  # a new state, the old code
    args = {"code": dance.query(back)["code"], "state": dance.query(fresh)["state"]}
    response = client.get("/sso/wechat/callback", query_string=args)
    dance.refused(response, sso_log, words="微信授权已失效或已使用",
                  secrets=[args["code"], APP_SECRET])
    assert any("errcode 40163" in r.getMessage() for r in sso_log.records)


def test_expired_code_is_refused(client, wechat, dance, sso_log):
    back = dance.at_provider(dance.to_provider(START))
    wechat.age_codes(301)
    dance.refused(dance.back(back), sso_log, words="微信授权已失效或已使用",
                  secrets=[dance.query(back)["code"], APP_SECRET])
    assert dance.counts() == (0, 0)


def test_wrong_state_is_refused(client, wechat, dance, sso_log):
    back = dance.at_provider(dance.to_provider(START))
    args = {**dance.query(back), "state": "forged"}
    response = client.get("/sso/wechat/callback", query_string=args)
    dance.refused(response, sso_log, words="登录请求已失效", secrets=[args["code"]])


def test_replayed_callback_is_refused(client, wechat, dance, sso_log):
    back = dance.at_provider(dance.to_provider(START))
    dance.back(back)
    dance.refused(dance.back(back), sso_log, words="登录请求已失效")


def test_denied_authorization_is_refused(client, wechat, dance, sso_log):
    wechat.deny = True
    dance.refused(dance.run(START), sso_log, words="没有完成微信授权")


def test_provider_down_is_refused(client, app, wechat, dance, sso_log, closed_url,
                                  monkeypatch):
    back = dance.at_provider(dance.to_provider(START))
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", closed_url)
    dance.refused(dance.back(back), sso_log, status=502, words="微信暂时无法访问",
                  secrets=[dance.query(back)["code"], APP_SECRET])


def test_garbage_answer_is_refused(client, wechat, dance, sso_log):
    wechat.token_body = "<html>系统繁忙</html>"
    dance.refused(dance.run(START), sso_log, status=502, words="微信返回的信息有误")


def test_wrong_app_secret_is_refused(client, app, wechat, dance, sso_log, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_APP_SECRET", "not-the-secret")
    dance.refused(dance.run(START), sso_log, status=502, words="微信返回的信息有误",
                  secrets=["not-the-secret"])
