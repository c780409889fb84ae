"""The citizen's booking flow: pick hall, day and slot, confirm, receipt, SMS, cancel, change."""


from html_kit import count, errors, field_value, has, hrefs, is_fragment, link, one
from sqlalchemy import func, select

from app.booking.models import Booking, Slot
from app.core.models import AuditLog
from app.extensions import db
from app.sms.models import SmsMessage
from factories import hall, item


def test_guide_links_to_booking_and_single_hall_goes_straight_to_days(client, world):
    guide = client.get(f"/services/{world.item.code}").get_data(as_text=True)
    assert f"/book/{world.item.code}" in hrefs(guide) and "预约到大厅办理" in guide
    response = client.get(f"/book/{world.item.code}")
    assert response.status_code == 302
    assert f"/book/{world.item.code}/hall/{world.hall.id}" in response.location


def test_day_strip_and_slots_with_places_left(client, world):
    response = client.get(f"/book/{world.item.code}/hall/{world.hall.id}"
                          f"?day={world.tomorrow.isoformat()}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert has(html, "#booking-slots a.slot .slot-left", "余 2 个")
    assert count(html, "#booking-slots nav.day-strip a.day") >= 5  # today (maybe), 5 working days
    fragment = client.get(f"/book/{world.item.code}/hall/{world.hall.id}"
                          f"?day={world.tomorrow.isoformat()}", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert is_fragment(body) and one(body, "section#booking-slots")
    assert "HX-Request" in fragment.headers["Vary"]


def test_confirm_needs_sign_in_then_books_once_with_receipt_and_sms(client, auth, world):
    slot = world.slot()
    response = client.get(f"/book/slot/{slot.id}")
    assert response.status_code == 302 and "/login" in response.location
    auth.login_citizen()
    page = client.get(f"/book/slot/{slot.id}").get_data(as_text=True)
    assert "核对预约信息" in page and "修改" in page and "138****8000" in page
    idem = field_value(page, "idem")
    assert idem
    response = world.book(client, slot, idem=idem)
    assert response.status_code == 303
    booking = world.booking()[0]
    receipt = client.get(response.location).get_data(as_text=True)
    assert booking.number in receipt and has(receipt, ".qr-box svg") and "出生医学证明" in receipt
    assert link(receipt, "添加到手机日历")["href"] == f"/bookings/{booking.id}.ics"
    assert link(receipt, "取消预约")["href"] == f"/bookings/{booking.id}/cancel"
    assert link(receipt, "改约")["href"] == f"/bookings/{booking.id}/change"
    assert db.session.get(Slot, slot.id).booked == 1
    sms = db.session.scalar(select(SmsMessage).where(SmsMessage.template == "booking_confirmed"))
    assert booking.number in sms.text and "/t/" in sms.text
    note = db.session.scalar(select(AuditLog).where(AuditLog.entity == "booking"))
    assert note.public_note.startswith("预约成功")


def test_double_submit_gets_the_first_result(client, auth, world):
    auth.login_citizen()
    slot = world.slot()
    first = world.book(client, slot, idem="same-key")
    second = world.book(client, slot, idem="same-key")
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert len(world.booking()) == 1 and db.session.get(Slot, slot.id).booked == 1


def test_ics_download(client, auth, world):
    auth.login_citizen()
    world.book(client, world.slot())
    booking = world.booking()[0]
    response = client.get(f"/bookings/{booking.id}.ics")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    assert "BEGIN:VEVENT" in body and booking.number in body and "DTSTART:" in body


def test_wechat_gets_the_open_in_browser_hint(client, auth, world):
    auth.login_citizen()
    world.book(client, world.slot())
    booking = world.booking()[0]
    plain = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    wechat = client.get(f"/bookings/{booking.id}", headers={
        "User-Agent": "Mozilla/5.0 MicroMessenger/8.0.49"}).get_data(as_text=True)
    assert "在浏览器中打开" in wechat and "在浏览器中打开" not in plain


def test_another_citizen_gets_404(client, auth, world):
    auth.login_citizen()
    world.book(client, world.slot())
    booking = world.booking()[0]
    auth.logout()
    auth.login_citizen("13900139000")
    for path in (f"/bookings/{booking.id}", f"/bookings/{booking.id}.ics",
                 f"/bookings/{booking.id}/cancel", f"/bookings/{booking.id}/change",
                 f"/bookings/{booking.id}/ticket"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/bookings/{booking.id}/cancel").status_code == 404
    assert world.booking()[0].status == "booked"


def test_mine_lists_own_bookings(client, auth, world):
    auth.login_citizen()
    world.book(client, world.slot())
    html = client.get("/bookings").get_data(as_text=True)
    assert world.booking()[0].number in html and "已预约" in html


def test_full_slot_is_refused_clearly(client, auth, world):
    slot = world.slot()
    slot.booked = slot.capacity
    db.session.commit()
    auth.login_citizen()
    response = world.book(client, slot)
    assert response.status_code == 409
    assert "已约满" in response.get_data(as_text=True)
    assert world.booking() == []


def test_tampered_slot_id(client, auth, world):
    auth.login_citizen()
    response = world.book(client, type("S", (), {"id": 999999})())
    assert response.status_code == 404
    assert "没有找到这个预约时段" in response.get_data(as_text=True)


def test_retired_item_slot_is_refused(client, auth, world):
    from app.core.timeutil import utcnow

    slot = world.slot()
    world.item.retired_at = utcnow()
    db.session.commit()
    auth.login_citizen()
    response = world.book(client, slot)
    assert response.status_code == 410 and "停止网上预约" in errors(response)
    assert client.get(f"/book/{world.item.code}").status_code == 410


def test_past_and_too_soon_slots(client, auth, world):
    auth.login_citizen()
    past = world.soon_slot(-90)
    response = world.book(client, past)
    assert response.status_code == 409 and "已经过去" in errors(response)
    soon = world.soon_slot(30)
    response = world.book(client, soon, idem="k2")
    assert response.status_code == 409 and "至少提前 1 小时" in errors(response)
    assert world.booking() == []


def test_past_or_closed_date_in_the_strip(client, world):
    from datetime import timedelta

    from app.catalog.workdays import CalendarDay

    url = f"/book/{world.item.code}/hall/{world.hall.id}"
    old = (world.tomorrow - timedelta(days=5)).isoformat()
    response = client.get(f"{url}?day={old}")
    assert response.status_code == 400
    assert "已过或不在可预约范围内" in response.get_data(as_text=True)
    slot = world.slot()
    db.session.add(CalendarDay(hall_id=world.hall.id, day=world.tomorrow, is_workday=False,
                               name="测试假日"))
    db.session.commit()
    response = client.get(f"{url}?day={world.tomorrow.isoformat()}")
    assert response.status_code == 400 and "不办理" in errors(response)
    from conftest import Auth

    Auth(client).login_citizen()
    response = world.book(client, slot)
    assert response.status_code == 409 and "不办理预约业务" in errors(response)


def test_one_active_booking_per_item_per_day(client, auth, world):
    auth.login_citizen()
    assert world.book(client, world.slot(0), idem="a").status_code == 303
    response = world.book(client, world.slot(1), idem="b")
    assert response.status_code == 409 and "每天只能预约一次" in errors(response)
    assert len(world.booking()) == 1


def test_bad_birth_year_keeps_what_was_typed(client, auth, world):
    auth.login_citizen()
    response = world.book(client, world.slot(), birth_year="19x8")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "出生年份" in errors(response)
    assert field_value(html, "birth_year") == "19x8"
    assert world.booking() == []


def test_cancel_frees_the_place_and_is_audited(client, auth, world):
    auth.login_citizen()
    slot = world.slot()
    world.book(client, slot)
    booking = world.booking()[0]
    assert "确定取消" in client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    response = client.post(f"/bookings/{booking.id}/cancel")
    assert response.status_code == 303
    assert world.booking()[0].status == "cancelled"
    assert db.session.get(Slot, slot.id).booked == 0
    assert client.post(f"/bookings/{booking.id}/cancel").status_code == 409


def test_cancel_too_late_is_refused(client, auth, world):
    auth.login_citizen()
    slot = world.soon_slot(90)
    world.book(client, slot)
    booking = world.booking()[0]
    response = client.post(f"/bookings/{booking.id}/cancel")
    assert response.status_code == 409 and "不足 2 小时" in errors(response)
    assert world.booking()[0].status == "booked"


def test_change_moves_the_place_in_one_step(client, auth, world):
    auth.login_citizen()
    old_slot, new_slot = world.slot(0), world.slot(2)
    world.book(client, old_slot, idem="a")
    old = world.booking()[0]
    response = client.get(f"/bookings/{old.id}/change")
    assert f"change={old.id}" in response.location
    page = client.get(f"/book/slot/{new_slot.id}?change={old.id}").get_data(as_text=True)
    assert "确认改约" in page and old.number in page
    response = world.book(client, new_slot, idem="b", change=old.id)
    assert response.status_code == 303
    rows = world.booking()
    assert [r.status for r in rows] == ["cancelled", "booked"]
    assert rows[0].cancel_reason == "changed" and rows[1].changed_from_id == old.id
    assert db.session.get(Slot, old_slot.id).booked == 0
    assert db.session.get(Slot, new_slot.id).booked == 1


def test_failed_change_keeps_the_old_place(client, auth, world):
    auth.login_citizen()
    old_slot, full = world.slot(0), world.slot(3)
    world.book(client, old_slot, idem="a")
    full.booked = full.capacity
    db.session.commit()
    old = world.booking()[0]
    response = world.book(client, full, idem="b", change=old.id)
    assert response.status_code == 409 and "已约满" in errors(response)
    assert [r.status for r in world.booking()] == ["booked"]
    assert db.session.get(Slot, old_slot.id).booked == 1


def test_bundle_booking_lists_every_items_materials(client, auth, world):
    from factories import bundle

    second = item(halls=[world.hall], materials=("结婚证",), bookable=False)
    row = bundle([world.item, second])
    response = client.get(f"/book/bundle/{row.code}")
    assert response.status_code == 302 and f"bundle={row.code}" in response.location
    auth.login_citizen()
    slot = world.slot()
    assert world.book(client, slot, bundle=row.code).status_code == 303
    booking = world.booking()[0]
    assert booking.bundle_id == row.id
    html = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "结婚证" in html and "出生医学证明" in html and row.name in html


def test_item_without_rules_says_so(client):
    other = hall()
    lonely = item(halls=[other])
    html = client.get(f"/book/{lonely.code}").get_data(as_text=True)
    assert "暂未开放网上预约" in html


def test_no_overbooking_constraint_in_the_database(world):
    import pytest
    from sqlalchemy.exc import IntegrityError

    slot = world.slot()
    slot.booked = slot.capacity + 1
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.max(Slot.booked))) == 0
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0
