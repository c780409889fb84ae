"""《用户服务协议》 and 《隐私政策》: pages of their own, an unticked box at sign-in, agreement
recorded per person and version, and a new version asked again before the person's own pages."""

import pytest
from conftest import shanghai
from html_kit import errors, field, one, values

from app.auth.models import Consent, User
from app.extensions import db
from app.sms.models import SmsMessage

pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=False)


def _code(phone="13800138000"):
    return db.session.query(SmsMessage).filter_by(phone=phone).order_by(
        SmsMessage.id.desc()).first().params["code"]


def test_the_documents_say_what_why_how_long_who_and_deletion(client):
    privacy = client.get("/privacy").get_data(as_text=True)
    for words in ("我们收集什么,为什么", "保存多久", "谁能看到", "删除", "敏感个人信息",
                  "180 天"):
        assert words in privacy, words
    terms = client.get("/terms").get_data(as_text=True)
    assert "掌上办用户服务协议" in terms and "版本 2026-12-01" in terms


def test_sign_in_page_shows_an_unticked_agreement(client):
    page = client.get("/login").get_data(as_text=True)
    agree = one(page, "#agree-field")
    assert [a["href"] for a in agree.find_all("a")] == ["/terms", "/privacy"]
    box = field(page, "agree")
    assert box["type"] == "checkbox" and box["value"] == "1"
    assert not box.has_attr("checked")  # not ticked in advance


def test_without_agreeing_no_sign_in_and_the_code_is_not_spent(client):
    client.post("/login/code", data={"phone": "13800138000"})
    code = _code()
    response = client.post("/login/verify", data={"phone": "13800138000", "code": code})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请阅读并勾选同意" in errors(response)
    assert "13800138000" in values(page) and code in values(page)
    response = client.post("/login/verify", data={"phone": "13800138000", "code": code,
                                                   "agree": "1", "next": "/me"})
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    user = db.session.query(User).filter_by(phone="13800138000").one()
    rows = db.session.query(Consent).filter_by(user_id=user.id).all()
    assert sorted((r.document, r.version, r.scope) for r in rows) == [
        ("privacy", "2026-12-01", ""), ("terms", "2026-12-01", "")]
    assert client.get("/me").status_code == 200


def test_a_new_version_asks_again(client, auth, app, monkeypatch):
    auth.login_citizen()
    assert client.get("/me").status_code == 200
    monkeypatch.setitem(app.config, "PRIVACY_VERSION", "2027-01-01")
    response = client.get("/me")
    assert response.status_code == 302 and response.headers["Location"] == "/consent?next=/me"
    assert client.get("/").status_code == 200  # public pages are not held up
    page = client.get("/consent?next=/me").get_data(as_text=True)
    assert "我们更新了《隐私政策》" in page and "不同意,退出登录" in page
    refused = client.post("/consent", data={"next": "/me"})
    assert refused.status_code == 400 and "请阅读并勾选同意" in errors(refused)
    agreed = client.post("/consent", data={"next": "/me", "agree": "1"})
    assert agreed.status_code == 303 and agreed.headers["Location"] == "/me"
    assert client.get("/me").status_code == 200
    versions = sorted(v for (v,) in db.session.query(Consent.version).filter_by(
        document="privacy"))
    assert versions == ["2026-12-01", "2027-01-01"]


def test_staff_are_not_asked(client, auth):
    import factories

    factories.staff("clerk1", "secret-pass-1")
    auth.login_staff("clerk1", "secret-pass-1")
    assert client.get("/me").status_code == 200
