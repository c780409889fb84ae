"""Sign-in and 一号查询 on one screen: the inline 获取验证码 button counts down the server's own
limit, a request too soon says how many seconds are left, and the two-step form still works."""

import re
from datetime import timedelta

import pytest
from conftest import shanghai
from html_kit import errors, values

from app.extensions import db
from app.sms.models import SmsMessage

HX = {"HX-Request": "true"}
pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=False)


def _last_code(phone="13800138000"):
    message = db.session.query(SmsMessage).filter_by(phone=phone).order_by(
        SmsMessage.id.desc()).first()
    return message.params["code"]


def _wait(page: str) -> int:
    return int(re.search(r'data-wait="(\d+)"', page).group(1))


def _memory_limits(app) -> bool:
    return app.config["RATELIMIT_STORAGE_URI"].startswith("memory")


def test_login_page_has_phone_code_and_inline_button(client):
    page = client.get("/login?next=/me").get_data(as_text=True)
    assert 'id="phone"' in page and 'id="code"' in page
    assert 'hx-post="/login/code"' in page and 'formaction="/login/code"' in page
    assert 'action="/login/verify"' in page and ">登录</button>" in page
    assert "signin.js" in page and "<script>" not in page


def test_inline_button_sends_the_code_and_counts_down_the_servers_limit(client):
    response = client.post("/login/code", data={"phone": "13800138000"}, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="code-send"' in page
    assert "<html" not in page and "138****8000" in page and "13800138000" not in page
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
    assert 'value="13800138000"' in full.get_data(as_text=True)
    assert db.session.query(SmsMessage).count() == 1


def test_bad_phone_from_the_button_is_400_in_place(client):
    response = client.post("/login/code", data={"phone": "1380013"}, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请输入正确的 11 位手机号码" in page
    assert 'id="code-send"' in page and "<html" not in page
    assert db.session.query(SmsMessage).count() == 0


def test_wrong_code_on_one_screen_keeps_phone_and_code(client):
    client.post("/login/code", data={"phone": "13800138000"}, headers=HX)
    bad = "000000" if _last_code() != "000000" else "111111"
    response = client.post("/login/verify", data={"agree": "1", "phone": "13800138000",
                                                   "code": bad})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "还可以再试 2 次" in errors(response)
    assert "13800138000" in values(page) and bad in values(page) and 'id="phone"' in page
    assert 1 <= _wait(page) <= 60


def test_bad_phone_on_one_screen_is_400_and_kept(client):
    response = client.post("/login/verify", data={"agree": "1", "phone": "12345", "code": "123456"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请输入正确的 11 位手机号码" in errors(response)
    assert 'value="12345"' in page and 'value="123456"' in page


def test_two_step_form_still_works_and_shows_the_wait(client, time_machine):
    response = client.post("/login/code", data={"phone": "13800138000", "code": ""})
    assert response.status_code == 303 and "/login/verify" in response.headers["Location"]
    time_machine.shift(timedelta(seconds=20))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-wait="40"' in page and "请 40 秒后再点" in page
    response = client.post("/login/verify", data={"agree": "1", "code": _last_code()})
    assert response.status_code == 303
