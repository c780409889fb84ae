"""One clock for the app: naive UTC in the database, local time on screen.

Every feature reads the time and converts between the hall's local days and UTC here.
"""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """Naive UTC now; both SQLite and PostgreSQL store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


# Aliyun's SMS API reads and writes Beijing time whatever zone the hall is in (+8, no DST).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def tz() -> ZoneInfo:
    """The hall's time zone."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(value: datetime) -> datetime:
    """Convert a naive UTC datetime to the hall's local time."""
    return value.replace(tzinfo=UTC).astimezone(tz())


def local_now() -> datetime:
    """Aware local now."""
    return datetime.now(tz())


def local_today() -> date:
    """The hall's local date now."""
    return local_now().date()


def parse_day(value) -> date | None:
    """An ISO date (YYYY-MM-DD) typed in a file or sent by another system; None if it is not one."""
    try:
        return date.fromisoformat(value.strip()) if value else None
    except (AttributeError, TypeError, ValueError):
        return None


def local_day(value: datetime) -> date:
    """The hall's local date of a naive UTC moment."""
    return to_local(value).date()


def to_utc(day: date, at: time) -> datetime:
    """A local date and time as naive UTC."""
    return datetime.combine(day, at, tzinfo=tz()).astimezone(UTC).replace(tzinfo=None)


def end_of_local_day(day: date) -> datetime:
    """Naive UTC of 23:59:59 local time on `day`: a clock runs out at the end of its last day."""
    return to_utc(day, time(23, 59, 59))


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The naive UTC start and end of a local calendar day."""
    return to_utc(day, time(0)), to_utc(day + timedelta(days=1), time(0))


def format_local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime as local text, or an empty string."""
    return to_local(value).strftime(fmt) if value else ""


WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def format_appointment(value: datetime | None) -> str:
    """An appointment as people say it: 12月07日(周一) 09:00."""
    if not value:
        return ""
    local = to_local(value)
    return f"{local:%m月%d日}({WEEKDAY_NAMES[local.weekday()]}) {local:%H:%M}"
