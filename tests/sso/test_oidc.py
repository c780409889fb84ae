"""Sign-in through the unified identity provider, against a real OIDC provider on loopback."""

import time

import requests
from fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET
from html_kit import errors, field_value, hrefs
from sqlalchemy import event, select
from sqlalchemy.orm import Session

import factories
from app.auth.models import Role, User
from app.extensions import db
from app.sms.models import SmsMessage
from app.sso.models import IdentityLink


def _link(subject="idp-user-1001", provider="oidc"):
    return db.session.scalar(select(IdentityLink).where(
        IdentityLink.provider == provider, IdentityLink.subject == subject))


def test_no_button_and_no_route_until_configured(client):
    assert "统一身份认证登录" not in client.get("/login").get_data(as_text=True)
    assert client.get("/sso/oidc/login").status_code == 404
    assert client.get("/sso/oidc/callback?code=x&state=y").status_code == 404


def test_button_when_configured(client, oidc):
    page = client.get("/login?next=/progress").get_data(as_text=True)
    assert "/sso/oidc/login?next=/progress" in hrefs(page) and "统一身份认证登录" in page
    assert "微信授权登录" not in page  # no WeChat provider configured
    assert "统一身份认证登录" in client.get("/staff/login").get_data(as_text=True)


def test_authorization_request_carries_pkce_state_and_nonce(client, oidc, dance):
    url = dance.to_provider("/sso/oidc/login")
    args = dance.query(url)
    assert url.startswith(oidc.issuer + "/authorize?")
    assert args["response_type"] == "code" and args["client_id"] == CLIENT_ID
    assert args["code_challenge_method"] == "S256" and len(args["code_challenge"]) == 43
    assert len(args["state"]) >= 20 and len(args["nonce"]) >= 20
    assert args["scope"] == "openid profile phone"
    assert args["redirect_uri"] == "http://localhost/sso/oidc/callback"


def test_vouched_phone_links_the_existing_account_then_signs_in_directly(client, oidc, dance):
    citizen = factories.citizen("13800138000")
    response = dance.run("/sso/oidc/login?next=/progress")
    assert response.status_code == 303 and response.headers["Location"] == "/progress"
    link = _link()
    assert link.user_id == citizen.id and link.real_name_verified
    assert db.session.get(User, citizen.id).name == "张三"  # the verified real name
    me = client.get("/me").get_data(as_text=True)
    assert "已绑定统一身份认证" in me and "统一身份认证" in me
    client.post("/logout")
    assert not dance.signed_in()
    again = dance.run()
    assert again.status_code == 303 and again.headers["Location"] == "/me"
    assert dance.signed_in() and dance.counts() == (1, 1)
    token_calls = [r for r in oidc.requests if r == ("POST", "/token")]
    assert len(token_calls) == 2


def test_vouched_phone_without_account_opens_a_citizen_account(client, oidc, dance):
    oidc.user.update(sub="new-person", phone_number="13900139000")
    assert dance.run().status_code == 303
    user = _link("new-person").user
    assert user.phone == "13900139000" and user.role == Role.CITIZEN


def test_claims_only_at_userinfo_are_read_from_there(client, oidc, dance):
    oidc.claims_in_userinfo_only = True
    assert dance.run().status_code == 303
    assert _link().user.phone == "13800138000"
    assert ("GET", "/userinfo") in oidc.requests


def test_unverified_phone_asks_for_the_phone_and_an_sms_code_once(client, oidc, dance):
    oidc.user["phone_number_verified"] = False
    response = dance.run()
    assert response.status_code == 303 and response.headers["Location"] == "/sso/link"
    assert dance.counts() == (0, 0) and not dance.signed_in()
    page = client.get("/sso/link").get_data(as_text=True)
    assert "您的手机号是多少" in page
    bad = client.post("/sso/link/code", data={"phone": "12345"})
    assert bad.status_code == 400 and "请输入正确的 11 位手机号码" in errors(bad)
    assert field_value(bad, "phone") == "12345"
    sent = client.post("/sso/link/code", data={"phone": "13700137000"})
    assert sent.status_code == 303 and sent.headers["Location"] == "/sso/link/verify"
    message = db.session.scalar(select(SmsMessage).where(SmsMessage.phone == "13700137000"))
    assert message.template == "link_code" and "绑定" in message.text
    wrong = client.post("/sso/link/verify", data={"code": "000000" if message.params["code"]
                                                  != "000000" else "111111"})
    assert wrong.status_code == 400 and "验证码不正确" in errors(wrong)
    done = client.post("/sso/link/verify", data={"code": message.params["code"]})
    assert done.status_code == 303 and done.headers["Location"] == "/me"
    assert _link().user.phone == "13700137000" and dance.signed_in()
    client.post("/logout")
    assert dance.run().status_code == 303 and dance.signed_in()  # no phone asked again


def test_no_phone_claim_asks_for_the_phone(client, oidc, dance):
    del oidc.user["phone_number"]
    assert dance.run().headers["Location"] == "/sso/link"


def test_link_pages_without_a_pending_identity_send_back_to_sign_in(client):
    assert client.get("/sso/link").headers["Location"].startswith("/login")
    assert client.get("/sso/link/verify").status_code == 303


def test_another_citizen_cannot_take_over_a_linked_subject(client, app, oidc, dance, auth):
    owner = factories.citizen("13800138000")
    dance.run()
    client.post("/logout")
    auth.login_citizen("13600136000")
    response = dance.run()  # the other citizen tries to bind the same provider account
    assert response.status_code == 400
    assert "已绑定其他账号" in response.get_data(as_text=True)
    assert _link().user_id == owner.id


def test_bind_from_me_links_the_signed_in_citizen(client, oidc, dance, auth):
    oidc.user.update(sub="someone", phone_number="13900139000")  # a different phone
    auth.login_citizen("13800138000")
    page = client.get("/me").get_data(as_text=True)
    assert "绑定统一身份认证" in page
    response = dance.run()
    assert response.status_code == 303
    assert _link("someone").user.phone == "13800138000"


def test_me_lists_methods_and_unlinks_when_another_remains(client, oidc, dance):
    factories.citizen("13800138000")
    dance.run()
    page = client.get("/me").get_data(as_text=True)
    assert "登录方式" in page and "手机号验证码" in page and "解除绑定" in page
    link = _link()
    response = client.post(f"/sso/links/{link.id}/unlink")
    assert response.status_code == 303
    assert _link() is None
    assert "已解除统一身份认证绑定" in client.get("/me").get_data(as_text=True)


def test_the_only_method_cannot_be_unlinked(client, oidc, dance):
    user = User(role=Role.CITIZEN)  # an account whose only way in is the provider
    db.session.add(user)
    db.session.flush()
    db.session.add(IdentityLink(user_id=user.id, provider="oidc", subject="idp-user-1001"))
    db.session.commit()
    dance.run()
    client.post("/consent", data={"agree": "1"})  # the account's first agreement
    assert "解除绑定" not in client.get("/me").get_data(as_text=True)
    response = client.post(f"/sso/links/{_link().id}/unlink")
    assert response.status_code == 303
    assert _link() is not None
    assert "唯一的登录方式" in client.get("/me").get_data(as_text=True)


def test_another_citizens_link_is_404(client, auth):
    other = factories.citizen("13900139000")
    db.session.add(IdentityLink(user_id=other.id, provider="oidc", subject="theirs"))
    db.session.commit()
    auth.login_citizen("13800138000")
    assert client.post(f"/sso/links/{_link('theirs').id}/unlink").status_code == 404
    assert _link("theirs") is not None


def test_unlink_needs_csrf_and_sign_in(client):
    assert client.post("/sso/links/1/unlink", csrf=False).status_code == 400
    assert client.post("/sso/links/1/unlink").status_code == 302


def test_logout_ends_the_provider_session_too(client, oidc, dance):
    factories.citizen("13800138000")
    dance.run()
    response = client.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/sso/signed-out"
    assert not dance.signed_in()
    page = client.get("/sso/signed-out")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "您已退出掌上办" in html
    end = html.split('http-equiv="refresh" content="0;url=', 1)[1].split('"', 1)[0]
    end = end.replace("&amp;", "&")
    args = dance.query(end)
    assert end.startswith(oidc.issuer + "/end_session?")
    assert args["client_id"] == CLIENT_ID and args["post_logout_redirect_uri"] == "http://localhost/"
    assert args["id_token_hint"].count(".") == 2
    back = requests.get(end, allow_redirects=False, timeout=10)
    assert back.headers["Location"].startswith("http://localhost/?state=")
    assert oidc.ended and oidc.ended[0]["id_token_hint"] == args["id_token_hint"]
    assert client.get("/sso/signed-out").headers["Location"] == "/"  # once only


def test_logout_without_end_session_endpoint_goes_home(client, oidc, dance):
    oidc.end_session = False
    factories.citizen("13800138000")
    dance.run()
    assert client.post("/logout").headers["Location"] == "/sso/signed-out"
    assert client.get("/sso/signed-out").headers["Location"] == "/"


def test_phone_sign_in_logout_is_unchanged(client, auth):
    auth.login_citizen()
    assert client.post("/logout").headers["Location"] == "/"


# --- bad input: each refused with a Chinese message, no session, a clean log line --------


def _callback(dance, **changes):
    """The provider's answer, with some query parameters changed on the way back."""
    back = dance.at_provider(dance.to_provider("/sso/oidc/login"))
    args = {**dance.query(back), **changes}
    return dance.client.get("/sso/oidc/callback", query_string=args), back


def test_wrong_state_is_refused(client, oidc, dance, sso_log):
    response, back = _callback(dance, state="forged-state-value")
    code = dance.query(back)["code"]
    dance.refused(response, sso_log, words="登录请求已失效",
                  secrets=[code, "forged-state-value", CLIENT_SECRET])
    assert dance.counts() == (0, 0)
    assert ("POST", "/token") not in oidc.requests  # refused before the code was spent


def test_replayed_state_is_refused(client, app, oidc, dance, sso_log):
    factories.citizen("13800138000")
    back = dance.at_provider(dance.to_provider("/sso/oidc/login"))
    assert dance.back(back).status_code == 303
    client.post("/logout")
    replay = dance.back(back)
    dance.refused(replay, sso_log, words="登录请求已失效", secrets=[dance.query(back)["code"]])
    stranger = app.test_client()  # someone who got hold of the URL
    assert stranger.get(back.replace("http://localhost", "")).status_code == 400


def test_wrong_nonce_is_refused(client, oidc, dance, sso_log):
    oidc.id_token_claims = {"nonce": "not-the-one-we-sent"}
    response = dance.run()
    dance.refused(response, sso_log, words="无法确认", secrets=[CLIENT_SECRET])
    assert dance.counts() == (0, 0)


def test_expired_id_token_is_refused(client, oidc, dance, sso_log):
    now = int(time.time())
    oidc.id_token_claims = {"iat": now - 7200, "exp": now - 3600}
    dance.refused(dance.run(), sso_log, words="已过期")
    assert dance.counts() == (0, 0)


def test_badly_signed_id_token_is_refused(client, oidc, dance, sso_log):
    oidc.sign_with_stranger_key = True
    dance.refused(dance.run(), sso_log, words="无法确认")
    assert dance.counts() == (0, 0)


def test_id_token_for_another_client_is_refused(client, oidc, dance, sso_log):
    oidc.id_token_claims = {"aud": "another-client"}
    dance.refused(dance.run(), sso_log, words="无法确认")


def test_id_token_for_another_audience_naming_us_as_azp_is_refused(client, oidc, dance,
                                                                   sso_log):
    oidc.id_token_claims = {"aud": ["another-client"], "azp": CLIENT_ID}
    dance.refused(dance.run(), sso_log, words="无法确认")
    assert dance.counts() == (0, 0)


def test_id_token_from_another_issuer_is_refused(client, oidc, dance, sso_log):
    oidc.id_token_claims = {"iss": "http://127.0.0.1:1/evil"}
    dance.refused(dance.run(), sso_log, words="无法确认")


def test_token_response_without_id_token_is_refused(client, oidc, dance, sso_log):
    oidc.omit_id_token = True
    dance.refused(dance.run(), sso_log, words="无法确认")


def test_provider_down_is_refused(client, app, oidc, dance, sso_log, closed_url, monkeypatch):
    monkeypatch.setitem(app.config, "OIDC_ISSUER", closed_url)
    response = client.get("/sso/oidc/login")
    dance.refused(response, sso_log, status=502, words="暂时无法访问")


def test_provider_down_at_the_token_endpoint_is_refused(client, oidc, dance, sso_log):
    back = dance.at_provider(dance.to_provider("/sso/oidc/login"))
    oidc.token_body = "<html>502 Bad Gateway</html>"
    dance.refused(dance.back(back), sso_log, status=502, words="返回的信息有误",
                  secrets=[dance.query(back)["code"], CLIENT_SECRET])


def test_garbage_discovery_document_is_refused(client, oidc, dance, sso_log):
    oidc.discovery_body = "<html>维护中</html>"
    dance.refused(client.get("/sso/oidc/login"), sso_log, status=502, words="返回的信息有误")


def test_provider_error_answer_is_refused(client, oidc, dance, sso_log):
    back = dance.at_provider(dance.to_provider("/sso/oidc/login"))
    state = dance.query(back)["state"]
    response = client.get("/sso/oidc/callback",
                          query_string={"error": "access_denied", "state": state})
    dance.refused(response, sso_log, words="没有完成")


def test_wrong_client_secret_is_refused(client, app, oidc, dance, sso_log, monkeypatch):
    monkeypatch.setitem(app.config, "OIDC_CLIENT_SECRET", "not-the-secret")
    response = dance.run()
    dance.refused(response, sso_log, status=502, words="返回的信息有误",
                  secrets=["not-the-secret"])


def test_discovery_naming_another_issuer_is_refused(client, app, oidc, dance, sso_log,
                                                    monkeypatch):
    monkeypatch.setitem(app.config, "OIDC_ISSUER", oidc.issuer + "/")
    assert client.get("/sso/oidc/login").status_code == 302  # a trailing slash is the same
    monkeypatch.setitem(app.config, "OIDC_ISSUER", oidc.issuer.replace("127.0.0.1", "localhost"))
    dance.refused(client.get("/sso/oidc/login"), sso_log, words="无法确认")


def test_a_raced_first_sign_in_ends_on_the_link_the_other_one_made(client, oidc, dance):
    """Two tabs sign in the same new identity: this one found no link, and while it makes a
    citizen for the phone the other tab commits its link (on its own connection). Ours then
    breaks the unique link, and the sign-in ends on the other tab's link, not on an error."""
    owner_id = factories.citizen("13800138000").id
    db.session.commit()
    oidc.user["phone_number"] = "13900139000"
    raced = []

    def other_tab_links_first(mapper, connection, target):
        if raced:
            return
        with Session(db.engine) as other:
            other.add(IdentityLink(user_id=owner_id, provider="oidc", subject="idp-user-1001"))
            other.commit()
        raced.append(target.phone)

    event.listen(User, "before_insert", other_tab_links_first)
    try:
        response = dance.run()
    finally:
        event.remove(User, "before_insert", other_tab_links_first)
    assert raced == ["13900139000"]  # the race happened, after our lookup found nothing
    assert response.status_code == 303
    assert dance.counts() == (1, 1) and "138****8000" in client.get("/me").get_data(as_text=True)


def test_rotated_signing_key_is_fetched_from_the_jwks(client, oidc, dance):
    factories.citizen("13800138000")
    assert dance.run().status_code == 303
    client.post("/logout")
    oidc.rotate_key()  # our cached JWKS does not know the new kid yet
    assert dance.run().status_code == 303 and dance.signed_in()
    assert oidc.requests.count(("GET", "/jwks")) == 2


def test_unverified_name_does_not_rename_the_citizen(client, oidc, dance):
    factories.citizen("13800138000", name="李四")
    oidc.user["name_verified"] = False
    dance.run()
    link = _link()
    assert link.user.name == "李四" and link.display_name == "张三"
    assert not link.real_name_verified


def test_a_disabled_account_is_not_signed_in(client, oidc, dance):
    citizen = factories.citizen("13800138000")
    citizen.active = False
    db.session.commit()
    response = dance.run()
    assert response.status_code == 400 and "已停用" in errors(response)
    assert not dance.signed_in() and dance.counts() == (1, 0)
    db.session.add(IdentityLink(user_id=citizen.id, provider="oidc", subject="idp-user-1001"))
    db.session.commit()
    response = dance.run()  # linked before it was disabled
    assert response.status_code == 400 and not dance.signed_in()


def test_the_phone_question_times_out(client, oidc, dance, monkeypatch):
    del oidc.user["phone_number"]
    dance.run()
    assert client.get("/sso/link").status_code == 200
    later = time.time() + 601
    monkeypatch.setattr("app.sso.routes.time.time", lambda: later)
    response = client.get("/sso/link")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    response = client.post("/sso/link/code", data={"phone": "13800138000"})
    assert response.status_code == 303 and dance.counts() == (0, 0)


def test_sso_pages_have_titles_and_unique_ids(client, oidc, dance):
    from collections import Counter

    from bs4 import BeautifulSoup

    del oidc.user["phone_number"]
    dance.run()
    pages = {"/sso/link": "验证手机号", "/login": "登录"}
    client.post("/sso/link/code", data={"phone": "13800138000"})
    pages["/sso/link/verify"] = "输入验证码"
    for path, title in pages.items():
        soup = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
        assert soup.title.string.startswith(title), path
        ids = Counter(tag["id"] for tag in soup.find_all(id=True))
        assert [i for i, n in ids.items() if n > 1] == [], path


def test_linking_counts_against_the_phones_code_limit(app, client, oidc, dance):
    """Issue 22: a code to link an account and a sign-in code share the phone's limit."""
    oidc.user["phone_number_verified"] = False
    dance.run()
    assert app.test_client().post("/login/code", data={"phone": "13700137000"}
                                  ).status_code == 303
    response = client.post("/sso/link/code", data={"phone": "13700137000"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "获取验证码太频繁" in errors(response)
    assert field_value(page, "phone") == "13700137000"
    assert db.session.query(SmsMessage).filter_by(template="link_code").count() == 0
