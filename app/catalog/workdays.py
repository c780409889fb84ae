"""Working days from the hall calendar of holidays and swapped workdays (调休), kept as data."""

from datetime import date, timedelta

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class CalendarDay(db.Model):
    """An exception to the Monday-Friday week: a holiday, or a weekend made a workday."""

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))  # None: every hall
    day: Mapped[date]
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(40), default="")

    __table_args__ = (UniqueConstraint("hall_id", "day", name="uq_calendar_day_hall_day"),)


def exceptions(start: date, end: date, hall_id: int | None = None) -> dict[date, bool]:
    """Calendar exceptions between two dates; a hall's own rows override the city's."""
    rows = db.session.scalars(select(CalendarDay).where(
        CalendarDay.day >= start, CalendarDay.day <= end,
        (CalendarDay.hall_id.is_(None)) | (CalendarDay.hall_id == hall_id))).all()
    result: dict[date, bool] = {}
    for row in sorted(rows, key=lambda r: r.hall_id is not None):
        result[row.day] = row.is_workday
    return result


def is_working_day(day: date, hall_id: int | None = None, known: dict | None = None) -> bool:
    """Monday to Friday unless the calendar says otherwise."""
    known = exceptions(day, day, hall_id) if known is None else known
    return known.get(day, day.weekday() < 5)


def span(count: int) -> int:
    """How many calendar days surely hold `count` working days (for reading exceptions once)."""
    return count * 3 + 30


def working_days_from(start: date, count: int, hall_id: int | None = None,
                      known: dict | None = None) -> list[date]:
    """The next `count` working days from `start` (inclusive); `known` may bring the exceptions
    already read for start .. start + span(count)."""
    if known is None:
        known = exceptions(start, start + timedelta(days=span(count)), hall_id)
    days, day = [], start
    while len(days) < count:
        if is_working_day(day, hall_id, known):
            days.append(day)
        day += timedelta(days=1)
    return days


def add_working_days(start: date, count: int, hall_id: int | None = None,
                     known: dict | None = None) -> date:
    """The date `count` working days after `start` (start itself not counted)."""
    if count <= 0:
        return start
    return working_days_from(start + timedelta(days=1), count, hall_id, known)[-1]


def working_days_between(start: date, end: date, hall_id: int | None = None) -> int:
    """Working days after `start` up to and including `end`."""
    known = exceptions(start, end, hall_id)
    return sum(1 for n in range(1, (end - start).days + 1)
               if is_working_day(start + timedelta(days=n), hall_id, known))
