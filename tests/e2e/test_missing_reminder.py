"""容缺 at phone size (issue 22, point 4): 我的办件 shows the deadline, and the last-day reminder's
link opens the matter on the phone."""

from datetime import date

import pytest
from conftest import shanghai
from e2e.browser import sign_in
from sqlalchemy import select

import factories
from app.applications import deadlines, services
from app.applications.states import Status
from app.auth.models import User
from app.catalog.models import ServiceItem
from app.core.timeutil import utcnow
from app.extensions import db
from app.sms.models import SmsMessage


@pytest.mark.time_machine(shanghai("2026-12-11 09:00"), tick=True)  # a Friday morning
def test_deadline_on_my_matters_and_the_reminder_link(app, make_phone):
    phone = make_phone()
    owner = db.session.scalar(select(User).where(User.phone == "13800138000")) or \
        factories.citizen("13800138000")
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "SC-001"))
    with app.test_request_context():
        row = services.start(owner, item=item)
        row.applicant_name, row.number = "张三", "YS26121100001"
        row.status, row.missing_due = Status.ACCEPTED_WITH_MISSING, date(2026, 12, 11)
        row.submitted_at = row.decided_at = utcnow()
        db.session.commit()
    assert deadlines.remind_missing()["last_day"] == 1

    page = phone.page
    sign_in(phone, "13800138000", "/progress/mine")
    due = page.locator(f"#matter-application-{row.id} .row-due")
    assert due.inner_text() == "请于 2026年12月11日 前补齐容缺材料"
    box = page.locator(f"#matter-application-{row.id}").bounding_box()
    assert box["height"] >= 44 and box["width"] <= 390
    page.screenshot(path="/tmp/22b-missing-mine.png", full_page=True)

    text = db.session.scalar(select(SmsMessage.text).where(
        SmsMessage.template == "app_missing_last_day"))
    assert "今天是办件YS26121100001补齐容缺材料的最后一天" in text
    page.goto("/t/" + text.rsplit("/t/", 1)[1])
    assert "YS26121100001" in page.inner_text(".matter-number")
    phone.assert_clean()
