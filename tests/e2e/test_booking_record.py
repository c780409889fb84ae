"""Issue 22, point 5, on a phone: 我的 shows the citizen's 近 90 天 record, and the cancel page
warns before the cancellation that would pause online booking."""

from datetime import timedelta

from e2e.browser import sign_in
from e2e.test_booking import _book_first_free_slot
from sqlalchemy import select

from app.auth.models import User
from app.booking.models import Booking
from app.core.timeutil import utcnow
from app.extensions import db


def _cancelled_before(phone: str, times: int) -> None:
    """`times` cancellations of this citizen in the past days, made on the demo's first slot."""
    citizen = db.session.scalar(select(User).where(User.phone == phone))
    model = db.session.scalars(select(Booking).where(Booking.citizen_id == citizen.id)).first()
    for n in range(times):
        at = utcnow() - timedelta(days=n + 1)
        db.session.add(Booking(
            number=f"8{n:07d}", citizen_id=citizen.id, slot_id=model.slot_id,
            hall_id=model.hall_id, item_id=model.item_id, day=at.date(), idem_key=f"e2e{n}",
            starts_at=at, ends_at=at + timedelta(minutes=30), status="cancelled",
            cancel_reason="citizen", cancelled_at=at))
    db.session.commit()


def test_record_on_me_and_the_warning_before_the_cancel_that_bars(phone):
    page = phone.page
    sign_in(phone, "13800138000", "/bookings")
    _book_first_free_slot(page)
    _cancelled_before("13800138000", 4)

    page.goto("/me")
    record = page.locator("#booking-record")
    assert "近 90 天:取消 4 次,爽约 0 次" in record.inner_text()
    page.screenshot(path="/tmp/22a-me-record.png", full_page=True)

    page.goto("/bookings")
    page.locator("a[href^='/bookings/']").first.click()
    page.click("text=取消预约")
    warning = page.locator("#cancel-bars")
    assert "这次取消后,您30 天内取消预约 5 次,将暂停网上预约至" in warning.inner_text()
    box = page.locator("button:has-text('确定取消')").bounding_box()
    assert box["height"] >= 44
    page.screenshot(path="/tmp/22a-cancel-warning.png", full_page=True)
    page.click("button:has-text('确定取消')")
    page.wait_for_selector("text=已取消")

    page.goto("/me")
    text = page.locator("#booking-record").inner_text()
    assert "近 90 天:取消 5 次" in text and "暂停网上预约至" in text
    phone.assert_clean()
