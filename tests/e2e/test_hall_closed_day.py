"""A closed day over bookings at phone size (issue 22, point 8): the hall admin confirms on a
phone, the citizen opens the SMS link and books again."""

from datetime import date, datetime, time, timedelta

import pytest
from conftest import shanghai
from sqlalchemy import select

import factories
from app.auth.models import User
from app.booking.models import Booking, Slot
from app.catalog.models import ServiceItem
from app.extensions import db
from app.sms.models import SmsMessage

DAY = date(2026, 12, 18)  # a Friday


def _booking(owner, hall_id, item, n) -> Booking:
    starts = datetime.combine(DAY, time(1 + n))  # 09:00, 10:00 local, as naive UTC
    slot = Slot(hall_id=hall_id, item_id=item.id, day=DAY, starts_at=starts,
                ends_at=starts + timedelta(minutes=30), capacity=4, booked=1, window_group="A")
    db.session.add(slot)
    db.session.flush()
    row = Booking(number=f"7712000{n}", citizen_id=owner.id, slot_id=slot.id, hall_id=hall_id,
                  item_id=item.id, day=DAY, idem_key=f"e2e{n}", starts_at=starts,
                  ends_at=slot.ends_at)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_admin_confirms_a_closed_day_and_the_citizen_books_again(make_phone):
    admin_phone, citizen_phone = make_phone(), make_phone()
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    item = next(i for i in db.session.scalars(select(ServiceItem).where(
        ServiceItem.bookable.is_(True))) if admin.hall in i.halls)
    owner = db.session.scalar(select(User).where(User.phone == "13800138000")) or \
        factories.citizen("13800138000")
    other = factories.citizen("13900139011")
    first, _ = _booking(owner, admin.hall_id, item, 1), _booking(other, admin.hall_id, item, 2)

    a = admin_phone.page
    a.goto("/staff/login")
    a.fill("#username", "admin")
    a.fill("#password", "admin-demo-2026")
    with a.expect_navigation():
        a.click("button:has-text('登录')")
    a.goto("/admin/booking")
    a.fill("#day", DAY.isoformat())
    a.select_option("#kind", "holiday")
    a.fill("#name", "设备检修")
    a.click("button:has-text('保存日期')")
    a.wait_for_selector("#confirm-cancel")
    assert "会影响 2 个预约" in a.inner_text("#confirm-cancel")
    assert "138****8000" in a.inner_text("#confirm-cancel")
    assert a.evaluate("document.documentElement.scrollWidth") <= 390
    a.screenshot(path="/tmp/22b-holiday-confirm.png", full_page=True)
    a.click("button:has-text('确认,取消这 2 个预约')")
    a.wait_for_url("**/admin/booking**")
    assert "已取消 2 个预约" in a.inner_text("body")
    assert first.number in a.inner_text("#hall-cancellations")
    a.locator("#hall-cancellations").screenshot(path="/tmp/22b-holiday-list.png")

    db.session.refresh(first)
    assert (first.status, first.cancel_reason) == ("cancelled", "hall")
    text = db.session.scalar(select(SmsMessage.text).where(
        SmsMessage.template == "booking_hall_cancelled", SmsMessage.phone == "13800138000"))
    c = citizen_phone.page
    c.goto("/t/" + text.rsplit("/t/", 1)[1])
    assert "不计入您的取消或爽约次数" in c.inner_text("body")
    box = c.locator("#matter-action").bounding_box()
    assert box["height"] >= 44
    c.screenshot(path="/tmp/22b-holiday-citizen.png", full_page=True)
    c.click("#matter-action")
    c.wait_for_url(f"**/book/{item.code}/hall/{admin.hall_id}**")
    admin_phone.assert_clean()
    citizen_phone.assert_clean()
