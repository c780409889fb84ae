"""Opening hours and slots: which days and times a hall opens an item for booking, the slot rows
made from its rules, and the booking settings (BOOKING_* in app/config.py)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.orm import joinedload

from app.booking.models import Slot, SlotRule
from app.catalog import workdays
from app.core.timeutil import local_today, to_local, to_utc, utcnow
from app.extensions import db


def cfg(name: str) -> int:
    return current_app.config[f"BOOKING_{name}"]


def begin_write() -> bool:
    """Start the write transaction now: on SQLite take the write lock before the first read.

    True on SQLite, where what was read before this call may have changed by the time the lock
    is held; PostgreSQL's row locks and unique constraints decide there instead."""
    if db.session.get_bind().dialect.name != "sqlite":
        return False
    raw = db.session.connection().connection.dbapi_connection
    if not raw.in_transaction:
        db.session.execute(text("BEGIN IMMEDIATE"))
    return True


def active_rules(hall_id: int, item_id: int) -> list[SlotRule]:
    return db.session.scalars(select(SlotRule).where(
        SlotRule.hall_id == hall_id, SlotRule.item_id == item_id, SlotRule.active.is_(True))
        .order_by(SlotRule.start)).all()


def _rules_on(rules: list[SlotRule], day: date, known: dict) -> list[SlotRule]:
    """Of an item's active rules, those that open this day. A holiday closes it; a swapped
    workday (调休) on a weekend follows its own weekday's rules if it has any, else Monday's."""
    if known.get(day) is False:
        return []
    own = [r for r in rules if r.weekday == day.weekday()]
    if own or day.weekday() < 5 or known.get(day) is not True:
        return own
    return [r for r in rules if r.weekday == 0]


def rules_for(hall_id: int, item_id: int, day: date, known: dict | None = None) -> list[SlotRule]:
    """The active rules that open this day (see _rules_on)."""
    known = workdays.exceptions(day, day, hall_id) if known is None else known
    if known.get(day) is False:
        return []
    return _rules_on(active_rules(hall_id, item_id), day, known)


@dataclass
class Opening:
    """What the pages that offer an item's slots at a hall need, read once (three queries): the
    item's active rules, the calendar's exceptions up to past the horizon, the bookable days."""

    hall_id: int
    item_id: int
    rules: list[SlotRule]
    known: dict[date, bool]
    last: date
    days: list[date]

    def rules_on(self, day: date) -> list[SlotRule]:
        return _rules_on(self.rules, day, self.known)


def plan(hall_id: int, item_id: int) -> Opening:
    today, ahead = local_today(), cfg("DAYS_AHEAD")
    known = workdays.exceptions(today, today + timedelta(days=workdays.span(ahead) + 1), hall_id)
    last = workdays.add_working_days(today, ahead, hall_id, known)
    rules = active_rules(hall_id, item_id)
    days = [today + timedelta(days=n) for n in range((last - today).days + 1)]
    return Opening(hall_id, item_id, rules, known, last,
                   [d for d in days if _rules_on(rules, d, known)])


def bookable_days(hall_id: int, item_id: int) -> list[date]:
    """Today up to the horizon, the days the hall opens for this item."""
    return plan(hall_id, item_id).days


def _times(rule: SlotRule):
    start = datetime.combine(date.min, rule.start)
    end = datetime.combine(date.min, rule.end)
    step = timedelta(minutes=rule.slot_minutes)
    while start + step <= end:
        yield start.time(), (start + step).time()
        start += step


def _wanted(hall_id: int, item_id: int, day: date, rules: list[SlotRule]) -> dict:
    """The times the rules open that day: start (UTC) -> a row not yet in the database."""
    wanted = {}
    for rule in rules:
        for begin, end in _times(rule):
            start = to_utc(day, begin)
            wanted[start] = dict(rule_id=rule.id, hall_id=hall_id, item_id=item_id, day=day,
                                 window_group=rule.window_group, starts_at=start,
                                 ends_at=to_utc(day, end), capacity=rule.capacity, booked=0)
    return wanted


def _listed(hall_id: int, item_id: int, day: date, rules: list[SlotRule],
            rows: list[Slot]) -> list[Slot]:
    rule_ids = {r.id for r in rules}
    wanted = _wanted(hall_id, item_id, day, rules)
    made = {s.starts_at: s for s in rows}
    unsaved = [Slot(**row) for start, row in wanted.items() if start not in made]
    return sorted([*(s for s in made.values() if s.rule_id in rule_ids), *unsaved],
                  key=lambda s: s.starts_at)


def day_slots(hall_id: int, item_id: int, day: date,
              rules: list[SlotRule] | None = None) -> list[Slot]:
    """The day's slots, read only: the rows made so far and, for times nobody has booked yet,
    unsaved Slot objects (id None) made from the rules. A page that lists slots writes nothing;
    the row is made when someone books it (made_slot)."""
    rules = rules_for(hall_id, item_id, day) if rules is None else rules
    rows = db.session.scalars(select(Slot).where(
        Slot.hall_id == hall_id, Slot.item_id == item_id, Slot.day == day)).all()
    return _listed(hall_id, item_id, day, rules, rows)


def first_open_day(opening: Opening, now: datetime | None = None) -> tuple[date | None, list[Slot]]:
    """The first bookable day with a place left (else the first bookable day) and its
    day_slots, in one query. Only the days up to it are drawn: a page that opens on the first
    free day does not build every day's unsaved slots to pick one."""
    rows: dict[date, list[Slot]] = {}
    for row in db.session.scalars(select(Slot).where(
            Slot.hall_id == opening.hall_id, Slot.item_id == opening.item_id,
            Slot.day.in_(opening.days))):
        rows.setdefault(row.day, []).append(row)

    def listed(day: date) -> list[Slot]:
        return _listed(opening.hall_id, opening.item_id, day, opening.rules_on(day),
                       rows.get(day, []))

    now = now or utcnow()
    for day in opening.days:
        slots = listed(day)
        if any(s.left and slot_open(s, now) for s in slots):
            return day, slots
    return (opening.days[0], listed(opening.days[0])) if opening.days else (None, [])


def slot_key(slot: Slot) -> str:
    """How a page names a slot: its id, or for one not yet made, its rule and UTC start."""
    return str(slot.id) if slot.id else f"{slot.rule_id}-{slot.starts_at:%Y%m%d%H%M}"


def unsaved_slot(rule_id: int, stamp: str) -> Slot | None:
    """The slot a key names (`rule-YYYYmmddHHMM`, see slot_key), read only: the row when it
    exists, else an unsaved one, or None when the rule does not open that time."""
    try:
        starts_at = datetime.strptime(stamp, "%Y%m%d%H%M")
    except ValueError:
        return None
    # its hall and item in the same query: the confirm page shows them, the booking checks them
    rule = db.session.get(SlotRule, rule_id, options=[joinedload(SlotRule.hall),
                                                      joinedload(SlotRule.item)])
    if rule is None or not rule.active:
        return None
    day = to_local(starts_at).date()
    if rule not in rules_for(rule.hall_id, rule.item_id, day):
        return None
    row = _wanted(rule.hall_id, rule.item_id, day, [rule]).get(starts_at)
    if row is None:
        return None
    made = db.session.scalar(select(Slot).where(
        Slot.hall_id == rule.hall_id, Slot.item_id == rule.item_id, Slot.starts_at == starts_at))
    return made or Slot(**row, hall=rule.hall, item=rule.item)


def slot_by_key(key: str) -> Slot | None:
    """The slot a form names with slot_key: an id, or `rule-YYYYmmddHHMM`; None if neither."""
    key = (key or "").strip()
    if key.isdecimal() and len(key) <= 18:
        return db.session.get(Slot, int(key))
    rule_id, _, stamp = key.partition("-")
    if rule_id.isdecimal() and len(rule_id) <= 18 and stamp.isdecimal():
        return unsaved_slot(int(rule_id), stamp)
    return None


def made_slot(slot: Slot) -> Slot:
    """The row of a slot from day_slots/unsaved_slot, made now if it is not yet (race-safe:
    two people booking the first place at once make one row). Part of the caller's write."""
    if slot.id:
        return slot
    row = {key: getattr(slot, key) for key in (
        "rule_id", "hall_id", "item_id", "day", "window_group", "starts_at", "ends_at",
        "capacity", "booked")}
    _insert_missing([row])
    return db.session.scalar(select(Slot).where(
        Slot.hall_id == slot.hall_id, Slot.item_id == slot.item_id,
        Slot.starts_at == slot.starts_at))


def _insert_missing(rows: list[dict]) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(Slot).values(rows).on_conflict_do_nothing())


def ensure_slots(hall_id: int, item_id: int, day: date) -> list[Slot]:
    """The day's slots as rows, made now where missing, and committed (tests, demo data and
    benchmarks; pages use day_slots, which writes nothing)."""
    missing = [{key: getattr(s, key) for key in (
        "rule_id", "hall_id", "item_id", "day", "window_group", "starts_at", "ends_at",
        "capacity", "booked")} for s in day_slots(hall_id, item_id, day) if not s.id]
    if missing:
        _insert_missing(missing)
        db.session.commit()
    return day_slots(hall_id, item_id, day)


def slot_open(slot: Slot, now: datetime | None = None) -> bool:
    """Whether a slot still takes bookings by time (not by places)."""
    now = now or utcnow()
    return slot.starts_at - now >= timedelta(minutes=cfg("MIN_LEAD_MINUTES"))


def halls_with_rules(item) -> list:
    """The item's halls that open it for booking (one query)."""
    open_at = set(db.session.scalars(select(SlotRule.hall_id).where(
        SlotRule.item_id == item.id, SlotRule.active.is_(True)).distinct()))
    return [hall for hall in item.halls if hall.id in open_at]
