"""The two clocks in working days from the hall calendar: holidays, weekends, 调休, settings."""

from datetime import date, datetime, timedelta

from app.catalog.workdays import CalendarDay
from app.core.timeutil import to_local
from app.extensions import db
from app.feedback.models import UnresolvedReport
from app.feedback.rules import clocks, deadline


def _utc(local_day: date, hour: int) -> datetime:
    """Naive UTC of a Shanghai local hour (UTC+8)."""
    return datetime.combine(local_day, datetime.min.time()) + timedelta(hours=hour - 8)


def _day(moment: datetime) -> date:
    return to_local(moment).date()


def test_on_a_working_day_the_reply_is_due_that_day_and_the_resolution_five_working_days_on(
        world):
    monday = date(2026, 11, 23)
    reply, resolve = clocks(_utc(monday, 10), world.hall.id)
    assert _day(reply) == monday and to_local(reply).hour == 23
    assert _day(resolve) == date(2026, 11, 30)  # Tue..Fri, next Monday


def test_a_report_on_a_holiday_starts_on_the_next_working_day(world):
    # 2026-10-01..07 national holiday, Sunday 2026-10-11 a swapped workday (调休)
    for n in range(7):
        db.session.add(CalendarDay(hall_id=None, day=date(2026, 10, 1) + timedelta(days=n),
                                   is_workday=False, name="国庆节"))
    db.session.add(CalendarDay(hall_id=None, day=date(2026, 10, 11), is_workday=True,
                               name="调休"))
    db.session.commit()
    reply, resolve = clocks(_utc(date(2026, 10, 2), 9), world.hall.id)
    assert _day(reply) == date(2026, 10, 8)  # Thursday after the holiday
    # working days after Oct 2: 8 Thu, 9 Fri, 11 Sun (调休), 12 Mon, 13 Tue -> the 5th is Oct 13
    assert _day(resolve) == date(2026, 10, 13)


def test_a_halls_own_holiday_counts_for_that_hall_only(world):
    friday = date(2026, 11, 27)
    db.session.add(CalendarDay(hall_id=world.hall.id, day=date(2026, 11, 30), is_workday=False,
                               name="大厅搬迁"))
    db.session.commit()
    assert _day(deadline(_utc(friday, 10), 1, world.hall.id)) == date(2026, 12, 1)
    assert _day(deadline(_utc(friday, 10), 1, world.other_hall.id)) == date(2026, 11, 30)


def test_the_clocks_are_settings(world, app):
    monday = date(2026, 11, 23)
    old = app.config["FEEDBACK_REPLY_WORKDAYS"], app.config["FEEDBACK_RESOLVE_WORKDAYS"]
    app.config.update(FEEDBACK_REPLY_WORKDAYS=1, FEEDBACK_RESOLVE_WORKDAYS=3)
    try:
        reply, resolve = clocks(_utc(monday, 10), world.hall.id)
    finally:
        app.config["FEEDBACK_REPLY_WORKDAYS"], app.config["FEEDBACK_RESOLVE_WORKDAYS"] = old
    assert (_day(reply), _day(resolve)) == (date(2026, 11, 24), date(2026, 11, 26))


def test_overdue_follows_the_working_day_clock_across_a_holiday(world):
    # Reported on the Friday before a Monday holiday: the reply is due that Friday, the
    # resolution skips the holiday (Tue..Fri, then the Monday after).
    db.session.add(CalendarDay(hall_id=None, day=date(2026, 12, 7), is_workday=False,
                               name="假日"))
    db.session.commit()
    friday = date(2026, 12, 4)
    received = _utc(friday, 16)
    reply_due, resolve_due = clocks(received, world.hall.id)
    assert _day(resolve_due) == date(2026, 12, 14)
    report = UnresolvedReport(citizen_id=world.citizen.id, item_id=world.item.id,
                              hall_id=world.hall.id, description="测试逾期计算。",
                              reply_due_at=reply_due, resolve_due_at=resolve_due,
                              created_at=received)
    assert not report.overdue(_utc(friday, 23))  # late that evening: still the same day
    assert report.overdue(_utc(date(2026, 12, 5), 9))  # Saturday morning, no reply: overdue
    report.replied_at = _utc(friday, 17)
    assert not report.overdue(_utc(date(2026, 12, 14), 20))  # replied; resolution due the 14th
    assert report.overdue(_utc(date(2026, 12, 15), 9))
    report.status, report.resolved_at = "resolved", _utc(date(2026, 12, 15), 10)
    assert not report.overdue(_utc(date(2026, 12, 16), 9))  # closed: no flag
    assert report.resolve_overdue(_utc(date(2026, 12, 16), 9))  # but the record says late
