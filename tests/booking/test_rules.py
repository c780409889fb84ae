"""Reminders, no-shows, the bar after too many no-shows or cancellations, and the calendar."""

from datetime import time, timedelta

import pytest
from conftest import shanghai
from html_kit import errors, field_value
from sqlalchemy import select

from app.booking import opening, record, services
from app.booking.models import Booking, SlotRule
from app.catalog.workdays import CalendarDay
from app.core.timeutil import to_local, utcnow
from app.extensions import db
from app.jobs import OutboxJob
from app.sms.models import SmsMessage


def _book(client, auth, world, n=0, idem="k", day=None):
    if not getattr(world, "signed_in", False):
        auth.login_citizen()
        world.signed_in = True
    assert world.book(client, world.slot(n, day), idem=idem).status_code == 303
    return db.session.scalars(select(Booking).order_by(Booking.id.desc())).first()


def test_reminder_and_no_show_jobs_are_scheduled(client, auth, world):
    # The day after tomorrow: the eve's 18:00 is still ahead whatever the time of the run.
    booking = _book(client, auth, world, day=world.tomorrow + timedelta(days=1))
    jobs = {j.name: j for j in db.session.scalars(select(OutboxJob))}
    assert jobs["booking.no_show"].run_at == booking.ends_at
    remind_at = to_local(jobs["booking.remind"].run_at)
    assert remind_at.hour == 18 and remind_at.date() == booking.day - timedelta(days=1)


def test_reminder_is_idempotent_and_none_for_cancelled(app, client, auth, world):
    booking = _book(client, auth, world)
    with app.test_request_context():
        assert services.remind(booking.id) == "queued"
        assert services.remind(booking.id) == "queued"
    reminders = db.session.scalars(select(SmsMessage).where(
        SmsMessage.template == "booking_reminder")).all()
    assert len(reminders) == 1 and booking.number in reminders[0].text
    other = _book(client, auth, world, n=1, idem="k2", day=world.tomorrow + timedelta(days=1))
    client.post(f"/bookings/{other.id}/cancel")
    with app.test_request_context():
        assert services.remind(other.id) == "skipped"
    assert db.session.scalar(select(SmsMessage).where(
        SmsMessage.template == "booking_reminder", SmsMessage.text.contains(other.number))) is None


@pytest.mark.time_machine(shanghai("2026-12-02 23:30"), tick=True)
def test_reminder_respects_quiet_hours(app, client, auth, world, monkeypatch):
    booking = _book(client, auth, world)
    monkeypatch.setitem(app.config, "QUIET_HOURS", "22-8")  # the default: 23:30 is inside
    with app.test_request_context():
        services.remind(booking.id)
    message = db.session.scalar(select(SmsMessage).where(
        SmsMessage.template == "booking_reminder"))
    assert to_local(message.send_after) == shanghai("2026-12-03 08:00")


def test_no_show_job_marks_only_unchecked_past_bookings(app, client, auth, world):
    booking = _book(client, auth, world)
    with app.test_request_context():
        assert services.mark_no_show(booking.id) == "skipped"  # slot not over yet
    world.past(booking)
    with app.test_request_context():
        assert services.mark_no_show(booking.id) == "no_show"
        assert services.mark_no_show(booking.id) == "skipped"
    db.session.refresh(booking)
    assert booking.status == "no_show" and booking.no_show_at is not None


def test_two_no_shows_bar_online_booking_until_a_date(app, client, auth, world):
    for n in range(2):
        booking = _book(client, auth, world, n=n, idem=f"n{n}",
                        day=world.tomorrow + timedelta(days=n))
        world.past(booking, hours=24 * (n + 1))
        with app.test_request_context():
            services.mark_no_show(booking.id)
    response = world.book(client, world.slot(2), idem="after")
    refusal = errors(response)
    assert response.status_code == 403 and "暂停网上预约至" in refusal and "爽约 2 次" in refusal
    with app.test_request_context():
        until, _ = record.barred_until(world.citizen.id)
    assert until is not None and until > to_local(utcnow()).date() + timedelta(days=85)
    assert "暂停网上预约至" in client.get("/bookings").get_data(as_text=True)


def test_five_cancellations_bar_but_changes_do_not_count(app, client, auth, world):
    for n in range(4):
        booking = _book(client, auth, world, n=0, idem=f"c{n}")
        client.post(f"/bookings/{booking.id}/cancel")
    booking = _book(client, auth, world, n=0, idem="c4")
    assert world.book(client, world.slot(1), idem="chg", change=booking.id).status_code == 303
    assert world.book(client, world.slot(3), idem="other",
                      ).status_code == 409  # one per day, not barred
    changed = db.session.scalars(select(Booking).where(Booking.status == "booked")).one()
    client.post(f"/bookings/{changed.id}/cancel")
    response = world.book(client, world.slot(0), idem="last")
    assert response.status_code == 403 and "取消预约 5 次" in errors(response)


def test_holiday_closes_and_swapped_weekend_opens(app, world):
    day = world.tomorrow
    with app.test_request_context():
        assert opening.ensure_slots(world.hall.id, world.item.id, day)
        db.session.add(CalendarDay(hall_id=None, day=day, is_workday=False, name="全市假日"))
        db.session.commit()
        assert opening.ensure_slots(world.hall.id, world.item.id, day) == []
        # The hall's own row overrides the city-wide one.
        db.session.add(CalendarDay(hall_id=world.hall.id, day=day, is_workday=True, name="值班"))
        db.session.commit()
        assert opening.ensure_slots(world.hall.id, world.item.id, day)


def test_swapped_workday_on_a_weekend_uses_mondays_rules(app, world):
    for rule in world.rules:
        if rule.weekday >= 5:
            rule.active = False
    db.session.commit()
    with app.test_request_context():
        today = services.local_today()
        saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
        assert opening.ensure_slots(world.hall.id, world.item.id, saturday) == []
        db.session.add(CalendarDay(hall_id=None, day=saturday, is_workday=True, name="调休"))
        db.session.commit()
        slots = opening.ensure_slots(world.hall.id, world.item.id, saturday)
    assert [to_local(s.starts_at).time() for s in slots][:1] == [time(9, 0)]


def test_works_for_years_without_calendar_data(app, world):
    with app.test_request_context():
        far = services.local_today().replace(year=services.local_today().year + 10)
        assert len(opening.ensure_slots(world.hall.id, world.item.id, far)) == 4


def test_no_booking_beyond_the_horizon(client, auth, world):
    with client.application.test_request_context():
        last = opening.plan(world.hall.id, world.item.id).last
    auth.login_citizen()
    world.signed_in = True
    late = world.slot(0, day=last + timedelta(days=1))
    response = world.book(client, late)
    assert response.status_code == 409 and "5 个工作日" in errors(response)


def test_admin_edits_rules_and_calendar(client, auth, world):
    auth.login_staff("admin1", "secret-pass-2")
    page = client.get("/admin/booking").get_data(as_text=True)
    assert "新增每周时段" in page and "节假日与调休" in page
    bad = client.post("/admin/booking/rules", data={
        "item_id": world.item.id, "weekday": ["1"], "start": "10:00", "end": "09:00",
        "slot_minutes": "30", "capacity": "3"})
    assert bad.status_code == 400 and "结束时间要晚于开始时间" in errors(bad)
    assert field_value(bad, "end") == "09:00" and field_value(bad, "start") == "10:00"
    before = db.session.scalar(select(SlotRule.id).order_by(SlotRule.id.desc()))
    ok = client.post("/admin/booking/rules", data={
        "item_id": world.item.id, "weekday": ["1", "3"], "start": "14:00", "end": "16:00",
        "slot_minutes": "20", "capacity": "3", "window_group": "B"})
    assert ok.status_code == 303
    new = db.session.scalars(select(SlotRule).where(SlotRule.id > before)
                             .order_by(SlotRule.id)).all()
    assert [r.weekday for r in new] == [1, 3] and new[0].window_group == "B"
    slot = world.slot()
    assert client.post(f"/admin/booking/rules/{slot.rule_id}/capacity",
                       data={"capacity": "7"}).status_code == 303
    db.session.refresh(slot)
    assert slot.capacity == 7
    bad_day = client.post("/admin/booking/days", data={"day": "2027-13-01", "kind": "holiday"})
    assert bad_day.status_code == 400 and "请输入日期" in errors(bad_day)
    assert client.post("/admin/booking/days", data={
        "day": "2031-10-01", "kind": "holiday", "name": "大厅停电检修"}).status_code == 303
    row = db.session.scalar(select(CalendarDay))
    assert row.hall_id == world.hall.id and row.name == "大厅停电检修" and not row.is_workday
    assert client.post(f"/admin/booking/days/{row.id}/delete").status_code == 303
    assert db.session.scalar(select(CalendarDay)) is None
    assert client.post(f"/admin/booking/rules/{slot.rule_id}/retire").status_code == 303
    assert all(s.id != slot.id for s in world.slots())


def test_admin_cannot_touch_another_halls_rule(client, auth, world):
    other = SlotRule(hall_id=world.other_hall.id, item_id=world.item.id, weekday=0,
                     start=time(9), end=time(10))
    db.session.add(other)
    db.session.commit()
    auth.login_staff("admin1", "secret-pass-2")
    assert client.post(f"/admin/booking/rules/{other.id}/capacity",
                       data={"capacity": "9"}).status_code == 403
    assert client.get("/admin/booking").status_code == 200
    auth.logout()
    auth.login_staff("clerk1", "secret-pass-1")
    assert client.post(f"/admin/booking/rules/{other.id}/retire").status_code == 403


def test_demo_rules_let_a_fresh_database_book(runner):
    runner.invoke(args=["demo", "load"])
    assert db.session.scalar(select(SlotRule.id).limit(1)) is not None


def test_seed_calendar_from_chinesecalendar_once(runner):
    from datetime import date

    result = runner.invoke(args=["booking", "seed-calendar", "--year", "2026"])
    assert "已添加" in result.output and result.exit_code == 0
    national = db.session.scalar(select(CalendarDay).where(CalendarDay.day == date(2026, 10, 1)))
    assert national.hall_id is None and not national.is_workday and national.name == "国庆节"
    swapped = db.session.scalar(select(CalendarDay).where(CalendarDay.day == date(2026, 9, 20)))
    assert swapped.is_workday and "调休" in swapped.name
    again = runner.invoke(args=["booking", "seed-calendar", "--year", "2026"])
    assert "已添加 0 个" in again.output
