"""Opening hours and slots: which days and times a hall opens an item for booking, the slot rows
made from its rules, and the booking settings (BOOKING_* in app/config.py)."""

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select, text

from app.booking.models import Slot, SlotRule
from app.core import workdays
from app.core.timeutil import local_today, to_utc, utcnow
from app.extensions import db


def cfg(name: str) -> int:
    return current_app.config[f"BOOKING_{name}"]


def begin_write() -> None:
    """Start the write transaction now: on SQLite take the write lock before the first read."""
    if db.session.get_bind().dialect.name != "sqlite":
        return
    raw = db.session.connection().connection.dbapi_connection
    if not raw.in_transaction:
        db.session.execute(text("BEGIN IMMEDIATE"))


def rules_for(hall_id: int, item_id: int, day: date, known: dict | None = None) -> list[SlotRule]:
    """The active rules that open this day. A holiday closes it; a swapped workday (调休) on a
    weekend follows its own weekday's rules if it has any, else Monday's."""
    known = workdays.exceptions(day, day, hall_id) if known is None else known
    if known.get(day) is False:
        return []
    rules = db.session.scalars(select(SlotRule).where(
        SlotRule.hall_id == hall_id, SlotRule.item_id == item_id, SlotRule.active.is_(True))
        .order_by(SlotRule.start)).all()
    own = [r for r in rules if r.weekday == day.weekday()]
    if own or day.weekday() < 5 or known.get(day) is not True:
        return own
    return [r for r in rules if r.weekday == 0]


def horizon(hall_id: int) -> date:
    """The last day that may be booked: N working days after today."""
    return workdays.add_working_days(local_today(), cfg("DAYS_AHEAD"), hall_id)


def bookable_days(hall_id: int, item_id: int) -> list[date]:
    """Today up to the horizon, the days the hall opens for this item."""
    today, last = local_today(), horizon(hall_id)
    known = workdays.exceptions(today, last, hall_id)
    days = []
    for n in range((last - today).days + 1):
        day = today + timedelta(days=n)
        if rules_for(hall_id, item_id, day, known):
            days.append(day)
    return days


def _times(rule: SlotRule):
    start = datetime.combine(date.min, rule.start)
    end = datetime.combine(date.min, rule.end)
    step = timedelta(minutes=rule.slot_minutes)
    while start + step <= end:
        yield start.time(), (start + step).time()
        start += step


def ensure_slots(hall_id: int, item_id: int, day: date) -> list[Slot]:
    """The day's slots, created from the rules the first time anyone looks (race-safe)."""
    rules = rules_for(hall_id, item_id, day)
    wanted = {}
    for rule in rules:
        for begin, end in _times(rule):
            wanted[to_utc(day, begin)] = (rule, to_utc(day, end))
    have = set(db.session.scalars(select(Slot.starts_at).where(
        Slot.hall_id == hall_id, Slot.item_id == item_id, Slot.day == day)).all())
    missing = [dict(rule_id=rule.id, hall_id=hall_id, item_id=item_id, day=day,
                    window_group=rule.window_group, starts_at=start, ends_at=end,
                    capacity=rule.capacity, booked=0)
               for start, (rule, end) in wanted.items() if start not in have]
    if missing:
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(insert(Slot).values(missing).on_conflict_do_nothing())
        db.session.commit()
    rule_ids = {r.id for r in rules}
    slots = db.session.scalars(select(Slot).where(
        Slot.hall_id == hall_id, Slot.item_id == item_id, Slot.day == day)
        .order_by(Slot.starts_at)).all()
    return [s for s in slots if s.rule_id in rule_ids]


def slot_open(slot: Slot, now: datetime | None = None) -> bool:
    """Whether a slot still takes bookings by time (not by places)."""
    now = now or utcnow()
    return slot.starts_at - now >= timedelta(minutes=cfg("MIN_LEAD_MINUTES"))


def halls_with_rules(item) -> list:
    """The item's halls that open it for booking (one query)."""
    open_at = set(db.session.scalars(select(SlotRule.hall_id).where(
        SlotRule.item_id == item.id, SlotRule.active.is_(True)).distinct()))
    return [hall for hall in item.halls if hall.id in open_at]
