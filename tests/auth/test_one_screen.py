"""Sign-in and 一号查询 on one screen: the inline 获取验证码 button counts down the server's own
limit, a request too soon says how many seconds are left, and the two-step form still works."""

import re
from datetime import timedelta

import pytest
from conftest import shanghai
from html_kit import button, errors, field_value, has, is_fragment, one, soup, text_of

from app.extensions import db
from app.sms.models import SmsMessage

HX = {"HX-Request": "true"}
pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=False)


def _last_code(phone="13800138000"):
    message = db.session.query(SmsMessage).filter_by(phone=phone).order_by(
        SmsMessage.id.desc()).first()
    return message.params["code"]


def _wait(page: str) -> int:
    """The seconds the send-code button counts down from (the server's own count)."""
    return int(one(page, "#code-send button[data-wait]")["data-wait"])


def _memory_limits(app) -> bool:
    return app.config["RATELIMIT_STORAGE_URI"].startswith("memory")


def test_login_page_has_phone_code_and_inline_button(client):
    page = client.get("/login?next=/me").get_data(as_text=True)
    form = one(page, 'form[action="/login/verify"]')
    assert form.select_one("input#phone") and form.select_one("input#code")
    send = one(page, "#code-send button")
    assert (send["hx-post"], send["formaction"]) == ("/login/code", "/login/code")
    assert button(page, "登录") in form.find_all("button")
    scripts = [tag.get("src", "") for tag in soup(page).find_all("script")]
    assert any("/js/signin.js" in src for src in scripts) and "" not in scripts  # none inline


def test_inline_button_sends_the_code_and_counts_down_the_servers_limit(client):
    response = client.post("/login/code", data={"phone": "13800138000"}, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and is_fragment(page) and has(page, "#code-send")
    assert "138****8000" in text_of(page, "#code-status") and "13800138000" not in page
    assert _wait(page) == 60  # SMS_LIMITS_PER_PHONE "1/minute"
    response = client.post("/login/verify", data={"agree": "1", "phone": "138 0013 8000",
                                                   "code": _last_code(), "next": "/me"})
    assert response.status_code == 303 and response.headers["Location"] == "/me"


def test_asked_too_soon_says_the_real_seconds(client, app, time_machine):
    client.post("/login/code", data={"phone": "13800138000"}, headers=HX)
    time_machine.shift(timedelta(seconds=15))
    response = client.post("/login/code", data={"phone": "13800138000"}, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    seconds = int(re.search(r"请 (\d+) 秒后再试", page).group(1))
    assert _wait(page) == seconds
    if _memory_limits(app):  # Redis keeps its own clock for the window's end
        assert seconds == 45
    else:
        assert 1 <= seconds <= 60
    full = client.post("/login/code", data={"phone": "13800138000"})
    assert full.status_code == 429 and "秒后再试" in errors(full)
    assert field_value(full, "phone") == "13800138000"
    assert db.session.query(SmsMessage).count() == 1


def test_bad_phone_from_the_button_is_400_in_place(client):
    response = client.post("/login/code", data={"phone": "1380013"}, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and is_fragment(page)
    assert "请输入正确的 11 位手机号码" in text_of(page, "#code-send #code-status")
    assert db.session.query(SmsMessage).count() == 0


def test_wrong_code_on_one_screen_keeps_phone_and_code(client):
    client.post("/login/code", data={"phone": "13800138000"}, headers=HX)
    bad = "000000" if _last_code() != "000000" else "111111"
    response = client.post("/login/verify", data={"agree": "1", "phone": "13800138000",
                                                   "code": bad})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "还可以再试 2 次" in errors(response)
    assert field_value(page, "phone") == "13800138000" and field_value(page, "code") == bad
    assert 1 <= _wait(page) <= 60


def test_bad_phone_on_one_screen_is_400_and_kept(client):
    response = client.post("/login/verify", data={"agree": "1", "phone": "12345", "code": "123456"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请输入正确的 11 位手机号码" in errors(response)
    assert field_value(page, "phone") == "12345" and field_value(page, "code") == "123456"


def test_two_step_form_still_works_and_shows_the_wait(client, time_machine):
    response = client.post("/login/code", data={"phone": "13800138000", "code": ""})
    assert response.status_code == 303 and "/login/verify" in response.headers["Location"]
    time_machine.shift(timedelta(seconds=20))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    resend = button(page, "没收到?重新发送")
    assert resend["data-wait"] == "40" and text_of(page, "[data-wait-note]") == "请 40 秒后再点"
    response = client.post("/login/verify", data={"agree": "1", "code": _last_code()})
    assert response.status_code == 303
