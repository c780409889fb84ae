"""Issue 22, point 6, on a phone: lookups of two record numbers of one phone send one code; the
second lookup sends none, says why a code may not come, and the code already sent still works."""

import pytest
from e2e.test_progress import _wait_for_code
from sqlalchemy import func, select

import factories
from app.extensions import db
from app.progress.registry import unregister_matter_kind
from app.sms.models import SmsMessage


@pytest.fixture
def matters():
    fake = factories.FakeMatters().register()
    yield fake
    unregister_matter_kind(fake.kind)


def _codes_sent(phone: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SmsMessage).where(
        SmsMessage.phone == phone, SmsMessage.template == "lookup_code"))


def _look_up(page, number: str) -> None:
    page.goto("/progress/lookup")
    page.fill("#number", number)
    page.click("button:has-text('获取验证码')")
    page.wait_for_selector("#code-status:has-text('验证码已发送')")  # on the same screen


def test_two_numbers_of_one_phone_get_one_code(make_phone, matters):
    owner = factories.citizen("13700137000")
    first = matters.add(owner, steps=["第一件的进度"])
    second = matters.add(owner, steps=["第二件的进度"])
    phone = make_phone(wechat=True)
    page = phone.page
    _look_up(page, first.number)
    code = _wait_for_code(phone)
    _look_up(page, second.number)
    assert "登录、查询合计" in page.locator("#code-limit-hint").inner_text()
    page.wait_for_timeout(2500)  # the job runs after the answer: give it time to (not) send
    assert _codes_sent("13700137000") == 1
    page.screenshot(path="/tmp/22a-lookup-limit.png", full_page=True)
    page.fill("#number", second.number)
    page.fill("#code", code)  # the code already on the phone still opens it
    page.click("button:has-text('查看进度')")
    page.wait_for_url(f"**/progress/testcase/{second.id}")
    assert "第二件的进度" in page.content()
    phone.assert_clean()
