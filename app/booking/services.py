"""Booking rules, taking and giving back places, check-in and the queue. Services own the commit.

No overbooking: a place is taken by one conditional UPDATE (`booked = booked + 1 WHERE booked <
capacity`) checked by its row count, with a CHECK constraint behind it; on SQLite the write
transaction begins IMMEDIATE so two writers never interleave their reads and writes.
"""

import math
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.auth.models import User
from app.booking.models import Booking, Slot, SlotRule, Ticket, TicketCounter
from app.booking.states import (
    ACTIVE,
    ALLOWED,
    LABELS,
    PUBLIC_NOTES,
    STAMPS,
    TICKET_ALLOWED,
    BookingStatus,
    TicketStatus,
)
from app.catalog.models import Bundle, Hall, ServiceItem, Window
from app.core import workdays
from app.core.access import scope
from app.core.links import make_link
from app.core.models import audit
from app.core.refusals import Refusal
from app.core.states import machine, move
from app.core.timeutil import local_today, to_local, to_utc, utcnow
from app.extensions import db
from app.progress.notify import noticed, push_along, push_or_sms
from app.ratings import services as ratings
from app.sms.services import find, queue_sms

ENTITY, TICKET_ENTITY = "booking", "ticket"
FULL = "这个时段已约满,请选择其他时段"


class BookingError(Refusal):
    """A refused booking action (a Refusal): its page is titled for booking."""

    default_status = 409
    titles = {403: "暂不能预约", 409: "不能预约", 410: "已停止预约"}
    heading = "预约"
    rule = "booking"
    back_endpoint = "pages.home"


def cfg(name: str) -> int:
    return current_app.config[f"BOOKING_{name}"]


# ---- time ----



def begin_write() -> None:
    """Start the write transaction now: on SQLite take the write lock before the first read."""
    if db.session.get_bind().dialect.name != "sqlite":
        return
    raw = db.session.connection().connection.dbapi_connection
    if not raw.in_transaction:
        db.session.execute(text("BEGIN IMMEDIATE"))


# ---- opening hours and slots ----

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


# ---- the bar after no-shows and cancellations ----

def counted_events(user_id: int, since: datetime) -> tuple[list[datetime], list[datetime]]:
    """What the bar counts, since `since`: the person's no-shows and their own cancellations
    (not a hall's, not a change of time), each as the time it happened, oldest first."""
    no_shows = db.session.scalars(select(Booking.no_show_at).where(
        Booking.citizen_id == user_id, Booking.status == BookingStatus.NO_SHOW,
        Booking.no_show_at >= since)).all()
    cancels = db.session.scalars(select(Booking.cancelled_at).where(
        Booking.citizen_id == user_id, Booking.status == BookingStatus.CANCELLED,
        Booking.cancel_reason == "citizen", Booking.cancelled_at >= since)).all()
    return sorted(no_shows), sorted(cancels)


def _bar_from(no_shows: list[datetime], cancels: list[datetime],
              now: datetime) -> tuple[date | None, str]:
    window, bar = timedelta(days=cfg("COUNT_DAYS")), timedelta(days=cfg("BAR_DAYS"))
    best, why = None, ""
    for events, limit, word in ((no_shows, cfg("NO_SHOW_LIMIT"), "爽约"),
                                (cancels, cfg("CANCEL_LIMIT"), "取消预约")):
        for i, at in enumerate(events):
            # The limit is reached at `at` when `limit` events fall in the window ending there.
            if i + 1 >= limit and at - events[i + 1 - limit] <= window:
                until = at + bar
                if until > now and (best is None or until > best):
                    best = until
                    why = f"{cfg('COUNT_DAYS')} 天内{word} {limit} 次"
    if best is None:
        return None, ""
    return to_local(best).date() + timedelta(days=1), why


def _rule_since(now: datetime) -> datetime:
    return now - timedelta(days=cfg("COUNT_DAYS")) - timedelta(days=cfg("BAR_DAYS"))


def barred_until(user_id: int, now: datetime | None = None) -> tuple[date | None, str]:
    """The local date online booking opens again for this person, and why; (None, "") if free."""
    now = now or utcnow()
    return _bar_from(*counted_events(user_id, _rule_since(now)), now)


def bar_if_cancelled(user_id: int, now: datetime | None = None) -> tuple[date | None, str]:
    """The bar one more cancellation now would bring, if it brings one the person has not got."""
    now = now or utcnow()
    no_shows, cancels = counted_events(user_id, _rule_since(now))
    if _bar_from(no_shows, cancels, now)[0] is not None:
        return None, ""  # already barred: this cancel changes nothing they do not know
    return _bar_from(no_shows, [*cancels, now], now)


@dataclass(frozen=True)
class BookingRecord:
    """近 N 天 of one citizen: what the bar counts, and the bar if there is one."""

    days: int
    cancels: int
    no_shows: int
    barred_until: date | None
    why: str


def booking_record(user_id: int, now: datetime | None = None) -> BookingRecord:
    """The citizen's recent record, counted by the bar's own function (one pair of queries)."""
    now = now or utcnow()
    days = cfg("RECORD_DAYS")
    no_shows, cancels = counted_events(user_id, min(_rule_since(now),
                                                    now - timedelta(days=days)))
    recent = now - timedelta(days=days)
    until, why = _bar_from(no_shows, cancels, now)
    return BookingRecord(days, sum(at >= recent for at in cancels),
                         sum(at >= recent for at in no_shows), until, why)


def bar_message(user_id: int) -> str | None:
    until, why = barred_until(user_id)
    if until is None:
        return None
    return (f"您{why},暂停网上预约至 {until:%Y年%m月%d日}(含当天起恢复)。"
            f"在此之前请直接到大厅取号办理。")


# ---- booking ----

def _number() -> str:
    while True:
        number = f"{secrets.randbelow(10**8):08d}"
        if not db.session.scalar(select(Booking.id).where(Booking.number == number)):
            return number


def new_idem_key() -> str:
    return secrets.token_urlsafe(18)


BOOKING = machine(
    Booking, entity=ENTITY, allowed=ALLOWED, stamps=STAMPS, public_notes=PUBLIC_NOTES,
    refused=lambda booking, current, to: BookingError(
        f"预约 {booking.number} 当前“{current_label(current)}”,不能这样操作"))


def current_label(status) -> str:
    return LABELS[BookingStatus(status)][0]


def _check_slot(slot: Slot | None, item: ServiceItem | None, now: datetime) -> Slot:
    if slot is None or item is None or slot.item_id != item.id:
        raise BookingError("没有找到这个预约时段,请重新选择时间", 404)
    if item.retired_at is not None or not item.bookable:
        raise BookingError("该事项已停止网上预约,请重新选择事项", 410)
    if slot.starts_at <= now:
        raise BookingError("这个时段已经过去,请选择其他时间", 409)
    if not slot_open(slot, now):
        raise BookingError(
            f"预约需至少提前 {cfg('MIN_LEAD_MINUTES') // 60 or 1} 小时,请选择更晚的时段", 409)
    if slot.day > horizon(slot.hall_id):
        raise BookingError(f"最多可预约 {cfg('DAYS_AHEAD')} 个工作日内的时段", 409)
    rule_ids = {r.id for r in rules_for(slot.hall_id, slot.item_id, slot.day)}
    if slot.rule_id not in rule_ids:
        raise BookingError("该日期或时段大厅不办理预约业务,请选择其他时间", 409)
    return slot


def check_birth_year(raw: str | None) -> int | None:
    """The optional birth year typed on the confirm page."""
    raw = (raw or "").strip()
    if not raw:
        return None
    year = local_today().year
    if not (raw.isdigit() and 1900 <= int(raw) <= year):
        raise BookingError("请输入 4 位出生年份,例如 1958,或留空", 400, field="birth_year")
    return int(raw)


def book(user: User, slot_id: int, idem_key: str, birth_year: int | None = None,
         bundle: Bundle | None = None, change: Booking | None = None,
         relative: dict | None = None) -> Booking:
    """Take a place, or (with `change`) give back the old one and take the new in one step.

    `relative` (relative_name, relative_relation, relative_phone) books for a family member."""
    if not idem_key or len(idem_key) > 40:
        raise BookingError("页面已过期,请重新选择时段", 400)
    first = _by_key(user, idem_key)
    if first is not None:
        return first  # a second submit of the same form: the first's result
    slot = db.session.get(Slot, slot_id)
    if slot is not None and change is None and slot.booked >= slot.capacity:
        # A quick answer for the crowd at a full slot, before taking any lock. Only the
        # conditional UPDATE in _book ever decides that a place is free.
        raise BookingError(FULL, 409)
    begin_write()
    try:
        first = _by_key(user, idem_key)  # again, now that we hold the write lock (SQLite)
        if first is not None:
            db.session.rollback()
            return first
        booking = _book(user, slot_id, idem_key, birth_year, bundle, change, relative)
        db.session.commit()
    except (BookingError, IntegrityError) as err:
        db.session.rollback()
        # The same form sent twice at once: the second loses the race and gets the first's result.
        first = _by_key(user, idem_key)
        if first is not None:
            return first
        if isinstance(err, BookingError):
            raise
        raise BookingError("您当天已预约过该事项,请在“预约”里查看", 409) from None
    return booking


def _by_key(user: User, idem_key: str) -> Booking | None:
    return db.session.scalar(select(Booking).where(
        Booking.citizen_id == user.id, Booking.idem_key == idem_key))


def _book(user, slot_id, idem_key, birth_year, bundle, change, relative=None) -> Booking:
    now = utcnow()
    slot = db.session.get(Slot, slot_id)
    item = db.session.get(ServiceItem, slot.item_id) if slot else None
    _check_slot(slot, item, now)
    if change is not None:
        _give_back(change, user, now, reason="changed")
    elif (message := bar_message(user.id)) is not None:
        raise BookingError(message, 403)
    same_day = db.session.scalar(select(Booking).where(
        Booking.citizen_id == user.id, Booking.item_id == slot.item_id, Booking.day == slot.day,
        Booking.status.in_(ACTIVE)))
    if same_day is not None:
        raise BookingError(
            f"您在 {slot.day:%m月%d日} 已预约该事项(预约号 {same_day.number}),"
            "同一事项每天只能预约一次;如需换时间请使用“改约”", 409)
    taken = db.session.execute(
        update(Slot).where(Slot.id == slot.id, Slot.booked < Slot.capacity)
        .values(booked=Slot.booked + 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise BookingError(FULL, 409)
    booking = Booking(number=_number(), citizen_id=user.id, slot_id=slot.id, hall_id=slot.hall_id,
                      item_id=slot.item_id, bundle_id=bundle.id if bundle else None, day=slot.day,
                      starts_at=slot.starts_at, ends_at=slot.ends_at, birth_year=birth_year,
                      idem_key=idem_key, changed_from_id=change.id if change else None,
                      status=BookingStatus.BOOKED, **(relative or {}))
    db.session.add(booking)
    db.session.flush()
    when = to_local(slot.starts_at)
    public = f"预约成功:{when:%m月%d日 %H:%M},预约号 {booking.number}"
    if change is not None:
        public = f"改约成功:新时间 {when:%m月%d日 %H:%M},预约号 {booking.number}"
    audit(ENTITY, booking.id, BookingStatus.BOOKED.value, actor_id=user.id, public_note=public)
    hall = db.session.get(Hall, slot.hall_id)
    params = {"when": f"{when:%m月%d日 %H:%M}", "hall": hall.short_name, "item": item.name[:16],
              "number": booking.number, "link": make_link("progress", ENTITY, booking.id)}
    for phone, key in _phones(booking, user.phone, f"booking-confirm:{booking.id}"):
        message = queue_sms(phone, "booking_confirmed", params, key=key)
        if phone == user.phone:
            _push_along(message, user.id)
    remind_at = to_utc(slot.day - timedelta(days=1), time(cfg("REMINDER_HOUR")))
    if remind_at > now:
        jobs.enqueue("booking.remind", booking.id, run_at=remind_at)
    jobs.enqueue("booking.no_show", booking.id, run_at=slot.ends_at)
    return booking


def _push_along(message, user_id: int) -> None:
    """The Web Push twin of a booking SMS, for a citizen subscribed in the installed app."""
    push_along(message, user_id)


def _phones(booking: Booking, phone: str, key: str) -> list[tuple[str, str]]:
    """The citizen's phone, and the family member's when the booking is for one (为家人预约)."""
    rows = [(phone, key)]
    if booking.relative_phone and booking.relative_phone != phone:
        rows.append((booking.relative_phone, f"{key}:relative"))
    return rows


def _give_back(booking: Booking, user: User, now: datetime, reason: str) -> None:
    """Cancel in the current transaction and free the place."""
    if booking.citizen_id != user.id:
        raise BookingError("没有找到这条预约", 404)
    db.session.refresh(booking, with_for_update=True)
    if booking.status != BookingStatus.BOOKED:
        raise BookingError(f"这条预约{current_label(booking.status)},不能再取消或改约", 409)
    if booking.starts_at - now < timedelta(minutes=cfg("CANCEL_LEAD_MINUTES")):
        hours = cfg("CANCEL_LEAD_MINUTES") / 60
        raise BookingError(f"距预约时间已不足 {hours:g} 小时,不能在网上取消或改约。"
                           "如不能按时到场,请致电大厅", 409)
    move(booking, BookingStatus.CANCELLED, actor_id=user.id,
         public_note="已改约,原预约取消" if reason == "changed" else None)
    booking.cancel_reason = reason
    db.session.execute(update(Slot).where(Slot.id == booking.slot_id, Slot.booked > 0)
                       .values(booked=Slot.booked - 1)
                       .execution_options(synchronize_session=False))


def cancel(user: User, booking: Booking) -> None:
    """The citizen cancels: the place goes back at once."""
    begin_write()
    try:
        _give_back(booking, user, utcnow(), reason="citizen")
        db.session.commit()
    except BookingError:
        db.session.rollback()
        raise


def can_cancel(booking: Booking) -> bool:
    return booking.status == BookingStatus.BOOKED and booking.starts_at - utcnow() >= timedelta(
        minutes=cfg("CANCEL_LEAD_MINUTES"))


# ---- jobs ----

def remind(booking_id: int) -> str:
    """The day-before SMS; nothing for a cancelled (or otherwise moved on) booking."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.status != BookingStatus.BOOKED or (
            booking.starts_at <= utcnow()):
        db.session.rollback()
        return "skipped"
    when = to_local(booking.starts_at)
    params = {"time": f"{when:%H:%M}", "hall": booking.hall.short_name,
              "item": booking.item.name[:16], "number": booking.number}
    for phone, key in _phones(booking, booking.citizen.phone, f"booking-remind:{booking.id}"):
        message = queue_sms(phone, "booking_reminder", params, key=key)
        if phone == booking.citizen.phone:
            _push_along(message, booking.citizen_id)
    db.session.commit()
    return "queued"


def mark_no_show(booking_id: int) -> str:
    """At the end of the slot: still not checked in means a no-show."""
    begin_write()
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.status != BookingStatus.BOOKED or booking.ends_at > utcnow():
        db.session.rollback()
        return "skipped"
    move(booking, BookingStatus.NO_SHOW, note="预约时段结束仍未签到")
    db.session.commit()
    return "no_show"


# ---- check-in and the queue ----

def _next_seq(hall_id: int, group: str, day: date) -> int:
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(TicketCounter).values(
        hall_id=hall_id, window_group=group, day=day, last=0).on_conflict_do_nothing())
    return db.session.execute(
        update(TicketCounter).where(TicketCounter.hall_id == hall_id,
                                    TicketCounter.window_group == group, TicketCounter.day == day)
        .values(last=TicketCounter.last + 1).returning(TicketCounter.last)).scalar_one()


def _issue(hall_id: int, group: str, priority: int, item_id: int | None,
           booking_id: int | None, actor_id: int) -> Ticket:
    day = local_today()
    ticket = Ticket(hall_id=hall_id, window_group=group, day=day,
                    seq=_next_seq(hall_id, group, day), priority=priority, item_id=item_id,
                    booking_id=booking_id, status=TicketStatus.WAITING)
    db.session.add(ticket)
    db.session.flush()
    audit(TICKET_ENTITY, ticket.id, TicketStatus.WAITING.value, actor_id=actor_id,
          note=f"取号 {ticket.code}")
    return ticket


def is_senior(birth_year: int | None) -> bool:
    return bool(birth_year) and local_today().year - birth_year >= cfg("PRIORITY_AGE")


def find_number(raw: str) -> str:
    digits = "".join(ch for ch in (raw or "") if ch.isdigit())
    if len(digits) != 8:
        raise BookingError("请输入 8 位预约号", 400, field="number")
    return digits


def check_in(clerk: User, raw_number: str) -> Ticket:
    """Check a booking in at the clerk's hall and give it a ticket ahead of walk-ins."""
    number = find_number(raw_number)
    begin_write()
    try:
        booking = db.session.scalar(select(Booking).where(Booking.number == number))
        if booking is None or booking.hall_id != clerk.hall_id:
            raise BookingError(f"本大厅没有预约号 {number}", 404, field="number")
        existing = db.session.scalar(select(Ticket).where(Ticket.booking_id == booking.id))
        if existing is not None:
            raise BookingError(f"预约 {number} 已签到,号码 {existing.code}", 409, field="number")
        if booking.day != local_today():
            raise BookingError(f"预约 {number} 是 {booking.day:%m月%d日} 的,不是今天", 409,
                               field="number")
        if booking.status != BookingStatus.BOOKED:
            raise BookingError(f"预约 {number} {current_label(booking.status)},不能签到", 409,
                               field="number")
        ticket = _issue(booking.hall_id, booking.slot.window_group, 0, booking.item_id,
                        booking.id, clerk.id)
        move(booking, BookingStatus.CHECKED_IN, actor_id=clerk.id,
             public_note=f"已到大厅签到,排队号 {ticket.code}")
        db.session.commit()
    except BookingError:
        db.session.rollback()
        raise
    return ticket


def walk_in(clerk: User, group: str, senior: bool) -> Ticket:
    """A ticket for someone without a booking; 60+ go with the bookings."""
    groups = hall_groups(clerk.hall_id)
    if group not in groups:
        raise BookingError("请选择窗口分组", 400, field="group")
    begin_write()
    ticket = _issue(clerk.hall_id, group, 0 if senior else 1, None, None, clerk.id)
    db.session.commit()
    return ticket


def hall_groups(hall_id: int | None) -> dict[str, list[Window]]:
    groups: dict[str, list[Window]] = {}
    for window in db.session.scalars(select(Window).where(Window.hall_id == hall_id)
                                     .order_by(Window.code)):
        groups.setdefault(window.group, []).append(window)
    return groups


def ticket_transition(ticket: Ticket, to: TicketStatus, actor_id: int,
                      window: Window | None = None) -> None:
    """Move a ticket (and its booking), locking the row, refusing moves not in the table."""
    db.session.refresh(ticket, with_for_update=True)
    current = TicketStatus(ticket.status)
    if to not in TICKET_ALLOWED[current]:
        raise BookingError(f"{ticket.code} 当前状态不能这样操作,请刷新页面", 409)
    now = utcnow()
    ticket.status = to
    if to == TicketStatus.CALLED:
        if current == TicketStatus.CALLED:
            ticket.recalls += 1
        ticket.called_at = now
        if window is not None:
            ticket.window_id = window.id
    else:
        ticket.finished_at = now
    where = ticket.window.name if ticket.window else ""
    audit(TICKET_ENTITY, ticket.id, to.value, actor_id=actor_id, from_status=current.value,
          note=f"{ticket.code} {where}")
    if ticket.booking_id:
        mapping = {TicketStatus.CALLED: BookingStatus.CALLED,
                   TicketStatus.SERVED: BookingStatus.SERVED,
                   TicketStatus.NO_SHOW: BookingStatus.NO_SHOW}
        public = None
        if to == TicketStatus.CALLED:
            public = f"{ticket.code} 请到 {where} 办理"
        elif to == TicketStatus.NO_SHOW:
            public = f"{ticket.code} 叫号未到,已过号"
        move(ticket.booking, mapping[to], actor_id=actor_id, public_note=public)
        if to == TicketStatus.SERVED:
            _invite_rating(ticket, actor_id, now)


def _invite_rating(ticket: Ticket, clerk_id: int, served_at: datetime) -> None:
    """一次一评: the person served may rate the visit."""
    booking = ticket.booking
    ratings.invite(channel="onsite", entity="booking", entity_id=booking.id,
                   citizen_id=booking.citizen_id, served_at=served_at, hall_id=ticket.hall_id,
                   item_id=booking.item_id, window_id=ticket.window_id, clerk_id=clerk_id)


def _clerk_window(clerk: User, window_id: int | None) -> Window:
    window = db.session.get(Window, window_id) if window_id else None
    if window is None or window.hall_id != clerk.hall_id:
        raise BookingError("请先选择您所在的窗口", 400, field="window")
    if window.closed(local_today()):
        raise BookingError(f"{window.code} {window.name}今日暂停服务,请选择其他窗口", 409,
                           field="window")
    return window


def choose_window(clerk: User, window_id: int | None) -> Window:
    """The clerk's window, kept on the account: the next sign-in, on any device, starts there."""
    window = _clerk_window(clerk, window_id)
    clerk.window_id = window.id
    db.session.commit()
    return window


def call_next(clerk: User, window_id: int | None) -> Ticket:
    """Call the next ticket of the window's group: bookings and 60+ first, then by number."""
    window = _clerk_window(clerk, window_id)
    begin_write()
    try:
        open_ticket = db.session.scalar(select(Ticket).where(
            Ticket.window_id == window.id, Ticket.day == local_today(),
            Ticket.status == TicketStatus.CALLED))
        if open_ticket is not None:
            raise BookingError(f"请先把 {open_ticket.code} 标记为已办理或过号", 409)
        for _ in range(5):  # another window of the group may take the same ticket first
            ticket = db.session.scalar(_waiting(window.hall_id, window.group).limit(1))
            if ticket is None:
                raise BookingError("目前没有等候的号码", 404)
            try:
                ticket_transition(ticket, TicketStatus.CALLED, clerk.id, window)
            except BookingError:
                continue
            _tell_the_near(window)
            db.session.commit()
            return ticket
        raise BookingError("叫号繁忙,请再试一次", 409)
    except BookingError:
        db.session.rollback()
        raise


NEAR_TURN = 3  # 前面还有 3 人: the people this close to their turn hear it, once


def _tell_the_near(window: Window) -> None:
    """After a call, each booked ticket with 1 to NEAR_TURN people ahead hears it once: by Web
    Push where its citizen subscribed in the app, else by SMS (app/progress/notify.py)."""
    db.session.flush()
    waiting = db.session.scalars(_waiting(window.hall_id, window.group)
                                 .limit(NEAR_TURN + 1)).all()
    for ahead, ticket in enumerate(waiting):
        booking = ticket.booking
        if ahead == 0 or booking is None or noticed(f"ticket-near:{ticket.id}"):
            continue  # the next one is called in a moment; a walk-in left no phone
        words = f"{ticket.code}号前面还有 {ahead} 人,请到 {window.code} 窗口附近等候"
        push_or_sms(booking.citizen_id, f"ticket-near:{ticket.id}",
                    {"title": "快到您了", "body": words, "url": f"/bookings/{booking.id}/ticket"},
                    booking.citizen.phone, "progress_called_soon",
                    {"ticket": ticket.code, "ahead": str(ahead), "window": window.code,
                     "link": make_link("progress", ENTITY, booking.id)})


def _waiting(hall_id: int, group: str):
    return select(Ticket).where(
        Ticket.hall_id == hall_id, Ticket.window_group == group, Ticket.day == local_today(),
        Ticket.status == TicketStatus.WAITING).order_by(Ticket.priority, Ticket.id)


def act(clerk: User, ticket_id: int, action: str) -> Ticket:
    """Re-call, served or no-show on a called ticket of the clerk's hall."""
    targets = {"recall": TicketStatus.CALLED, "served": TicketStatus.SERVED,
               "no_show": TicketStatus.NO_SHOW}
    begin_write()
    try:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None or action not in targets:
            raise BookingError("没有找到这个号码", 404)
        scope(clerk).read(ticket.hall_id)  # another hall's ticket: 403 (app/core/access.py)
        if ticket.status != TicketStatus.CALLED:
            raise BookingError(f"{ticket.code} 还没有叫号或已处理完", 409)
        ticket_transition(ticket, targets[action], clerk.id)
        db.session.commit()
    except BookingError:
        db.session.rollback()
        raise
    return ticket


@dataclass
class Place:
    ticket: Ticket
    ahead: int
    minutes: int


def place_in_queue(ticket: Ticket) -> Place:
    """How many are ahead and a rough wait: ahead × minutes per person ÷ windows of the group."""
    if ticket.status != TicketStatus.WAITING:
        return Place(ticket, 0, 0)
    ahead = db.session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.hall_id == ticket.hall_id, Ticket.window_group == ticket.window_group,
        Ticket.day == ticket.day, Ticket.status == TicketStatus.WAITING,
        or_(Ticket.priority < ticket.priority,
            and_(Ticket.priority == ticket.priority, Ticket.id < ticket.id))))
    windows = db.session.scalar(select(func.count()).select_from(Window).where(
        Window.hall_id == ticket.hall_id, Window.group == ticket.window_group)) or 1
    minutes = math.ceil((ahead + 1) * cfg("SERVICE_MINUTES") / windows)
    return Place(ticket, ahead, minutes)


def display_rows(hall_id: int, limit: int = 8) -> list[Ticket]:
    """The latest called tickets today, newest first."""
    return db.session.scalars(select(Ticket).where(
        Ticket.hall_id == hall_id, Ticket.day == local_today(), Ticket.called_at.is_not(None),
        Ticket.status.in_([TicketStatus.CALLED, TicketStatus.SERVED]))
        .order_by(Ticket.called_at.desc(), Ticket.id.desc()).limit(limit)).all()


def waiting_counts(hall_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Ticket.window_group, func.count()).where(
        Ticket.hall_id == hall_id, Ticket.day == local_today(),
        Ticket.status == TicketStatus.WAITING).group_by(Ticket.window_group)).all()
    return dict(rows)


# ---- staff views ----

def day_bookings(hall_id: int, day: date) -> list[Booking]:
    return db.session.scalars(select(Booking).where(
        Booking.hall_id == hall_id, Booking.day == day)
        .order_by(Booking.starts_at, Booking.id)).all()


def item_figures(hall_id: int, days: int = 30) -> list[tuple]:
    """Per item: bookings, cancellations by the citizen, no-shows, over the last `days` days."""
    since = local_today() - timedelta(days=days)
    cancelled = case((and_(Booking.status == BookingStatus.CANCELLED,
                           Booking.cancel_reason == "citizen"), 1), else_=0)
    no_show = case((Booking.status == BookingStatus.NO_SHOW, 1), else_=0)
    return db.session.execute(
        select(ServiceItem.name, func.count(Booking.id), func.sum(cancelled), func.sum(no_show))
        .join(ServiceItem, ServiceItem.id == Booking.item_id)
        .where(Booking.hall_id == hall_id, Booking.day >= since)
        .group_by(ServiceItem.name).order_by(func.count(Booking.id).desc())).all()


# ---- admin: rules and the calendar ----

def parse_rule(form) -> dict:
    """The add-rule form, checked; BookingError names the field."""
    def clock(name, label):
        raw = (form.get(name) or "").strip()
        try:
            return datetime.strptime(raw, "%H:%M").time()
        except ValueError:
            raise BookingError(f"请输入{label},格式如 08:30", 400, field=name) from None

    def number(name, label, low, high):
        raw = (form.get(name) or "").strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise BookingError(f"{label}应为 {low}-{high} 的整数", 400, field=name)
        return int(raw)

    item_id = number("item_id", "事项", 1, 10**9)
    weekdays = sorted({int(d) for d in form.getlist("weekday") if d.isdigit() and int(d) < 7})
    if not weekdays:
        raise BookingError("请至少选择一天", 400, field="weekday")
    start, end = clock("start", "开始时间"), clock("end", "结束时间")
    if end <= start:
        raise BookingError("结束时间要晚于开始时间", 400, field="end")
    return dict(item_id=item_id, weekdays=weekdays, start=start, end=end,
                slot_minutes=number("slot_minutes", "每段分钟数", 5, 240),
                capacity=number("capacity", "每段名额", 0, 500),
                window_group=(form.get("window_group") or "A").strip()[:4] or "A")


def add_rules(hall: Hall, data: dict, actor_id: int) -> list[SlotRule]:
    item = db.session.get(ServiceItem, data["item_id"])
    if item is None or hall not in item.halls:
        raise BookingError("该事项不在本大厅办理", 400, field="item_id")
    rows = [SlotRule(hall_id=hall.id, item_id=item.id, weekday=day, start=data["start"],
                     end=data["end"], slot_minutes=data["slot_minutes"],
                     capacity=data["capacity"], window_group=data["window_group"])
            for day in data["weekdays"]]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        audit("slot_rule", row.id, "active", actor_id=actor_id,
              note=f"{item.name} 周{row.weekday + 1} {row.start:%H:%M}-{row.end:%H:%M}")
    db.session.commit()
    return rows


class NeedsConfirmation(Exception):  # noqa: N818 - a question for the admin, not an error
    """A change that would cancel bookings: the admin sees them and confirms their number."""

    def __init__(self, bookings: list[Booking], what: str):
        super().__init__(what)
        self.bookings, self.what = bookings, what


def _confirmed(bookings: list[Booking], confirmed: int | None, what: str) -> None:
    """Go on only when the admin confirmed exactly these many bookings (a new booking made
    since the question asks again)."""
    if bookings and confirmed != len(bookings):
        db.session.rollback()
        raise NeedsConfirmation(bookings, what)


def over_capacity(rule: SlotRule, capacity: int) -> list[Booking]:
    """The bookings a capacity cut leaves without a place: in each future slot of the rule, the
    ones made last (first come, first kept)."""
    slots = db.session.scalars(select(Slot).where(
        Slot.rule_id == rule.id, Slot.starts_at > utcnow(), Slot.booked > capacity)).all()
    out = []
    for slot in slots:
        taken = db.session.scalars(select(Booking).where(
            Booking.slot_id == slot.id, Booking.status == BookingStatus.BOOKED)
            .order_by(Booking.created_at.desc(), Booking.id.desc())).all()
        out += taken[:max(0, len(taken) - capacity)]
    return sorted(out, key=lambda b: (b.starts_at, b.id))


def set_capacity(rule: SlotRule, capacity: int, actor_id: int,
                 confirmed: int | None = None) -> list[Booking]:
    """New capacity for the rule and its future slots. Below places already taken, the admin
    confirms first (NeedsConfirmation); then the bookings made last are cancelled by the hall."""
    begin_write()
    over = over_capacity(rule, capacity)
    _confirmed(over, confirmed, f"名额改为 {capacity}")
    cancel_by_hall(over, actor_id, "时段名额调整")
    rule.capacity = capacity
    db.session.execute(update(Slot).where(Slot.rule_id == rule.id, Slot.starts_at > utcnow())
                       .values(capacity=case((Slot.booked > capacity, Slot.booked),
                                             else_=capacity))
                       .execution_options(synchronize_session=False))
    audit("slot_rule", rule.id, "capacity", actor_id=actor_id,
          note=f"名额改为 {capacity}" + (f",大厅取消预约 {len(over)} 个" if over else ""))
    db.session.commit()
    return over


# ---- bookings the hall cancels (a closed day, fewer places) ----

HALL = "hall"  # Booking.cancel_reason: never counted against the citizen (barred_until)


def bookings_on(hall_id: int | None, day: date) -> list[Booking]:
    """The bookings still to come on a day, at one hall or (None) at every hall."""
    query = select(Booking).where(Booking.day == day, Booking.status == BookingStatus.BOOKED)
    if hall_id is not None:
        query = query.where(Booking.hall_id == hall_id)
    return db.session.scalars(query.order_by(Booking.starts_at, Booking.id)).all()


def cancel_by_hall(bookings: list[Booking], actor_id: int, reason: str) -> None:
    """Cancel these bookings for the hall in the current transaction: the places go back, the
    citizen's record is untouched (cancel_reason "hall"), and each gets an SMS (and push) with
    a link to book again."""
    for booking in bookings:
        move(booking, BookingStatus.CANCELLED, actor_id=actor_id, note=reason,
             public_note=f"因{reason},大厅取消了这次预约,不计入您的取消或爽约次数。"
                               "请重新预约。")
        booking.cancel_reason = HALL
        db.session.execute(update(Slot).where(Slot.id == booking.slot_id, Slot.booked > 0)
                           .values(booked=Slot.booked - 1)
                           .execution_options(synchronize_session=False))
        when = to_local(booking.starts_at)
        params = {"reason": reason[:10], "when": f"{when.month}月{when.day}日{when:%H:%M}",
                  "hall": booking.hall.short_name, "link": make_link("progress", ENTITY,
                                                                      booking.id)}
        for phone, key in _phones(booking, booking.citizen.phone,
                                  f"booking-hall-cancel:{booking.id}"):
            message = queue_sms(phone, "booking_hall_cancelled", params, key=key)
            if phone == booking.citizen.phone:
                _push_along(message, booking.citizen_id)


def hall_cancellations(hall_id: int, limit: int = 50) -> list[Booking]:
    """What the hall cancelled lately, newest first: the admin page lists it with each SMS."""
    return db.session.scalars(select(Booking).where(
        Booking.hall_id == hall_id, Booking.cancel_reason == HALL)
        .order_by(Booking.cancelled_at.desc(), Booking.id.desc()).limit(limit)).all()


def cancellation_sms(bookings: list[Booking]) -> dict:
    """The SMS each hall cancellation sent to its citizen, by booking id."""
    return {b.id: find(f"booking-hall-cancel:{b.id}") for b in bookings}


def retire_rule(rule: SlotRule, actor_id: int) -> None:
    """Stop offering the rule's slots; bookings already made stay."""
    rule.active = False
    audit("slot_rule", rule.id, "retired", actor_id=actor_id)
    db.session.commit()


def save_day(hall_id: int | None, raw_day: str, is_workday: bool, name: str,
             actor_id: int, confirmed: int | None = None
             ) -> tuple[workdays.CalendarDay, list[Booking]]:
    """Add or change a calendar day. A closed day over bookings still to come needs the admin's
    confirmation (NeedsConfirmation); then the hall cancels them."""
    try:
        day = date.fromisoformat((raw_day or "").strip())
    except ValueError:
        raise BookingError("请输入日期,格式如 2027-10-01", 400, field="day") from None
    begin_write()
    touched = [] if is_workday else bookings_on(hall_id, day)
    _confirmed(touched, confirmed, f"{day:%Y年%m月%d日}放假")
    label = (name or "").strip()[:8]
    cancel_by_hall(touched, actor_id, f"{label}闭厅" if label else "大厅放假")
    row = db.session.scalar(select(workdays.CalendarDay).where(
        workdays.CalendarDay.day == day,
        workdays.CalendarDay.hall_id.is_(None) if hall_id is None
        else workdays.CalendarDay.hall_id == hall_id))
    row = row or workdays.CalendarDay(hall_id=hall_id, day=day)
    row.is_workday, row.name = is_workday, (name or "").strip()[:40]
    db.session.add(row)
    db.session.flush()
    audit("calendar_day", row.id, "workday" if is_workday else "holiday", actor_id=actor_id,
          note=f"{day} {row.name}" + (f",大厅取消预约 {len(touched)} 个" if touched else ""))
    db.session.commit()
    return row, touched


def calendar_rows(hall_id: int) -> list[workdays.CalendarDay]:
    since = local_today() - timedelta(days=7)
    return db.session.scalars(select(workdays.CalendarDay).where(
        workdays.CalendarDay.day >= since,
        or_(workdays.CalendarDay.hall_id.is_(None), workdays.CalendarDay.hall_id == hall_id))
        .order_by(workdays.CalendarDay.day, workdays.CalendarDay.hall_id)).all()


def delete_day(row: workdays.CalendarDay, actor_id: int) -> None:
    """Remove a calendar exception: the day follows the Monday-Friday week again."""
    audit("calendar_day", row.id, "deleted", actor_id=actor_id, note=str(row.day))
    db.session.delete(row)
    db.session.commit()
