"""The hall admin's side of booking: slot rules, their capacity, the hall calendar, and the
bookings the hall itself cancels (a closed day, fewer places), never counted against citizens."""

from datetime import date, datetime, timedelta

from sqlalchemy import case, or_, select, update

from app.booking.models import Booking, Slot, SlotRule
from app.booking.opening import begin_write
from app.booking.services import ENTITY, BookingError, phones_of, push_note
from app.booking.states import (
    BookingStatus,
)
from app.catalog import workdays
from app.catalog.models import Hall, ServiceItem
from app.core.links import make_link
from app.core.models import audit
from app.core.refusals import rolls_back
from app.core.states import move
from app.core.timeutil import local_today, to_local, utcnow
from app.extensions import db
from app.sms.services import find, queue_sms


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
        if not raw.isdecimal() or not low <= int(raw) <= high:
            raise BookingError(f"{label}应为 {low}-{high} 的整数", 400, field=name)
        return int(raw)

    item_id = number("item_id", "事项", 1, 10**9)
    weekdays = sorted({int(d) for d in form.getlist("weekday") if d.isdecimal() and int(d) < 7})
    if not weekdays:
        raise BookingError("请至少选择一天", 400, field="weekday")
    start, end = clock("start", "开始时间"), clock("end", "结束时间")
    if end <= start:
        raise BookingError("结束时间要晚于开始时间", 400, field="end")
    return dict(item_id=item_id, weekdays=weekdays, start=start, end=end,
                slot_minutes=number("slot_minutes", "每段分钟数", 5, 240),
                capacity=number("capacity", "每段名额", 0, 500),
                window_group=(form.get("window_group") or "A").strip()[:4] or "A")


@rolls_back
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
        for phone, key in phones_of(booking, booking.citizen.phone,
                                  f"booking-hall-cancel:{booking.id}"):
            message = queue_sms(phone, "booking_hall_cancelled", params, key=key)
            if phone == booking.citizen.phone:
                push_note(message, booking.citizen_id)


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


@rolls_back
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


# ---- what the admin page reads ----

def active_rules(hall_id: int) -> list[SlotRule]:
    return db.session.scalars(select(SlotRule).where(
        SlotRule.hall_id == hall_id, SlotRule.active.is_(True))
        .order_by(SlotRule.item_id, SlotRule.weekday, SlotRule.start)).all()


def bookable_items(hall: Hall) -> list[ServiceItem]:
    items = db.session.scalars(select(ServiceItem).where(
        ServiceItem.retired_at.is_(None), ServiceItem.bookable.is_(True))
        .order_by(ServiceItem.code)).all()
    return [i for i in items if hall in i.halls]


def rule_by_id(rule_id: int) -> SlotRule | None:
    return db.session.get(SlotRule, rule_id)


def calendar_day(day_id: int) -> workdays.CalendarDay | None:
    return db.session.get(workdays.CalendarDay, day_id)
