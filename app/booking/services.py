"""Booking rules, taking and giving back places, check-in and the queue. Services own the commit.

No overbooking: a place is taken by one conditional UPDATE (`booked = booked + 1 WHERE booked <
capacity`) checked by its row count, with a CHECK constraint behind it; on SQLite the write
transaction begins IMMEDIATE so two writers never interleave their reads and writes.
"""

import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import jobs
from app.auth.models import User
from app.booking.models import Booking, Slot
from app.booking.opening import begin_write, cfg, plan, slot_open
from app.booking.record import bar_message
from app.booking.states import (
    ACTIVE,
    ALLOWED,
    LABELS,
    PUBLIC_NOTES,
    STAMPS,
    BookingStatus,
)
from app.catalog.models import Bundle, Hall, ServiceItem
from app.core.links import make_link
from app.core.models import AuditLog, audit
from app.core.refusals import Refusal
from app.core.states import lock, machine, move
from app.core.timeutil import local_today, to_local, to_utc, utcnow
from app.extensions import db
from app.progress.notify import push_along
from app.sms.services import queue_sms

ENTITY, TICKET_ENTITY = "booking", "ticket"
FULL = "这个时段已约满,请选择其他时段"


class BookingError(Refusal):
    """A refused booking action (a Refusal): its page is titled for booking."""

    default_status = 409
    titles = {403: "暂不能预约", 409: "不能预约", 410: "已停止预约"}
    heading = "预约"
    rule = "booking"
    back_endpoint = "pages.home"


# ---- time ----


# ---- opening hours and slots ----


# ---- the bar after no-shows and cancellations ----


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
    # The horizon and the day's rules from one reading of the calendar (two queries, not three)
    opening = plan(slot.hall_id, slot.item_id)
    if slot.day > opening.last:
        raise BookingError(f"最多可预约 {cfg('DAYS_AHEAD')} 个工作日内的时段", 409)
    if slot.rule_id not in {r.id for r in opening.rules_on(slot.day)}:
        raise BookingError("该日期或时段大厅不办理预约业务,请选择其他时间", 409)
    return slot


def check_birth_year(raw: str | None) -> int | None:
    """The optional birth year typed on the confirm page."""
    raw = (raw or "").strip()
    if not raw:
        return None
    year = local_today().year
    if not (raw.isdecimal() and 1900 <= int(raw) <= year):
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
    relocked = begin_write()
    try:
        # Again on SQLite, now that we hold the write lock; on PostgreSQL a twin that commits
        # first makes our INSERT fail on (citizen_id, idem_key), and the except below answers
        first = _by_key(user, idem_key) if relocked else None
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
    for phone, key in phones_of(booking, user.phone, f"booking-confirm:{booking.id}"):
        message = queue_sms(phone, "booking_confirmed", params, key=key)
        if phone == user.phone:
            push_note(message, user.id)
    remind_at = to_utc(slot.day - timedelta(days=1), time(cfg("REMINDER_HOUR")))
    if remind_at > now:
        jobs.enqueue("booking.remind", booking.id, run_at=remind_at)
    jobs.enqueue("booking.no_show", booking.id, run_at=slot.ends_at)
    return booking


def push_note(message, user_id: int) -> None:
    """The Web Push twin of a booking SMS, for a citizen subscribed in the installed app."""
    push_along(message, user_id)


def phones_of(booking: Booking, phone: str, key: str) -> list[tuple[str, str]]:
    """The citizen's phone, and the family member's when the booking is for one (为家人预约)."""
    rows = [(phone, key)]
    if booking.relative_phone and booking.relative_phone != phone:
        rows.append((booking.relative_phone, f"{key}:relative"))
    return rows


def _give_back(booking: Booking, user: User, now: datetime, reason: str) -> None:
    """Cancel in the current transaction and free the place."""
    if booking.citizen_id != user.id:
        raise BookingError("没有找到这条预约", 404)
    lock(booking)  # read afresh under the row lock; the move below takes it as held
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
    for phone, key in phones_of(booking, booking.citizen.phone, f"booking-remind:{booking.id}"):
        message = queue_sms(phone, "booking_reminder", params, key=key)
        if phone == booking.citizen.phone:
            push_note(message, booking.citizen_id)
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


# ---- staff views ----

def day_bookings(hall_id: int, day: date) -> list[Booking]:
    """The day's bookings with what the clerk's list shows of each, in one query however many
    there are (issue 19: no page grows with its records)."""
    return db.session.scalars(select(Booking).where(
        Booking.hall_id == hall_id, Booking.day == day)
        .options(joinedload(Booking.slot), joinedload(Booking.citizen),
                 joinedload(Booking.item), joinedload(Booking.bundle))
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


# ---- bookings the hall cancels (a closed day, fewer places) ----


# ---- what the pages read ----

def item_by_code(code: str) -> ServiceItem | None:
    return db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))


def bundle_by_code(code: str, active: bool = False) -> Bundle | None:
    query = select(Bundle).where(Bundle.code == code)
    return db.session.scalar(query.where(Bundle.retired_at.is_(None)) if active else query)


def hall_by_id(hall_id: int) -> Hall | None:
    return db.session.get(Hall, hall_id)


def all_halls() -> list[Hall]:
    return db.session.scalars(select(Hall).order_by(Hall.id)).all()


def booking_by_id(booking_id: int) -> Booking | None:
    """A booking with its item and hall in the same query: every page of a booking shows them."""
    return db.session.get(Booking, booking_id, options=[joinedload(Booking.item),
                                                        joinedload(Booking.hall)])


def slot_to_confirm(slot_id: int) -> Slot | None:
    """One query for the slot, its item and hall: this page answers the crowd at a full slot."""
    return db.session.get(Slot, slot_id, options=[joinedload(Slot.item), joinedload(Slot.hall)])


def bookings_of(user_id: int, limit: int = 50) -> list[Booking]:
    """A citizen's bookings, newest first."""
    return db.session.scalars(select(Booking).where(Booking.citizen_id == user_id)
                              .order_by(Booking.starts_at.desc()).limit(limit)).all()


def public_steps(booking: Booking) -> list[AuditLog]:
    """The booking's timeline as the citizen sees it."""
    return db.session.scalars(select(AuditLog).where(
        AuditLog.entity == ENTITY, AuditLog.entity_id == booking.id,
        AuditLog.public_note.is_not(None)).order_by(AuditLog.id)).all()
