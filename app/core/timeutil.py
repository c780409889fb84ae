"""One clock for the app: naive UTC in the database, local time on screen."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow() -> datetime:
    """Naive UTC now; both SQLite and PostgreSQL store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


def tz() -> ZoneInfo:
    """The hall's time zone."""
    return ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def to_local(value: datetime) -> datetime:
    """Convert a naive UTC datetime to the hall's local time."""
    return value.replace(tzinfo=UTC).astimezone(tz())


def local_now() -> datetime:
    """Aware local now."""
    return datetime.now(tz())


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
