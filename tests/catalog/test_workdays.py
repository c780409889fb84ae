"""Working days come from the calendar data, for any year."""

from datetime import date

import factories
from app.catalog.workdays import (
    CalendarDay,
    add_working_days,
    is_working_day,
    working_days_between,
    working_days_from,
)
from app.extensions import db


def test_plain_week_without_data_far_in_the_future():
    assert is_working_day(date(2031, 3, 7))  # a Friday
    assert not is_working_day(date(2031, 3, 8))  # a Saturday
    assert add_working_days(date(2031, 3, 7), 1) == date(2031, 3, 10)


def test_holidays_and_swapped_workdays():
    db.session.add_all([
        CalendarDay(day=date(2026, 10, 1), is_workday=False, name="国庆节"),
        CalendarDay(day=date(2026, 10, 2), is_workday=False, name="国庆节"),
        CalendarDay(day=date(2026, 10, 10), is_workday=True, name="国庆调休"),  # a Saturday
    ])
    db.session.commit()
    assert not is_working_day(date(2026, 10, 1))
    assert is_working_day(date(2026, 10, 10))
    assert working_days_from(date(2026, 9, 30), 3) == [date(2026, 9, 30), date(2026, 10, 5),
                                                       date(2026, 10, 6)]
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 7


def test_a_halls_own_day_overrides_the_city():
    hall = factories.hall()
    db.session.add_all([
        CalendarDay(day=date(2026, 12, 5), is_workday=True, name="全市周六延时服务"),
        CalendarDay(hall_id=hall.id, day=date(2026, 12, 5), is_workday=False, name="本厅检修"),
    ])
    db.session.commit()
    assert is_working_day(date(2026, 12, 5))
    assert not is_working_day(date(2026, 12, 5), hall.id)
