"""一号查询 on one screen: number, inline 获取验证码 counting down the server's limit, code."""

import re
from datetime import timedelta

import pytest
from conftest import shanghai
from html_kit import errors, field_value, one

import factories
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


def _lookup_code(phone, run_jobs):
    run_jobs()
    return _last_code(phone)


def test_lookup_on_one_screen(client, matters, run_jobs, app, time_machine):
    matter = matters.add(factories.citizen("13800138000"), steps=["已受理,正在办理"])
    page = client.get("/progress/lookup").get_data(as_text=True)
    form = one(page, 'form[action="/progress/lookup/code"]')
    assert form.select_one("#code-send button")["hx-post"] == "/progress/lookup"
    sent = client.post("/progress/lookup", data={"number": matter.number}, headers=HX)
    assert sent.status_code == 200 and _wait(sent.get_data(as_text=True)) == 60
    time_machine.shift(timedelta(seconds=10))
    again = client.post("/progress/lookup", data={"number": matter.number}, headers=HX)
    seconds = int(re.search(r"请 (\d+) 秒后再试", again.get_data(as_text=True)).group(1))
    assert again.status_code == 429 and (seconds == 50 or not _memory_limits(app))
    response = client.post("/progress/lookup/code", data={
        "number": matter.number, "code": _lookup_code("13800138000", run_jobs)})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/progress/testcase/{matter.id}"


def test_lookup_code_without_asking_first_is_400_and_kept(client, matters):
    matter = matters.add(factories.citizen("13800138000"))
    response = client.post("/progress/lookup/code", data={"number": matter.number,
                                                          "code": "123456"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请先获取验证码" in errors(response)
    assert field_value(page, "number") == matter.number and field_value(page, "code") == "123456"
