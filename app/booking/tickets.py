"""Check-in and the queue: tickets (取号), the windows that call them, and what the hall display
and the citizen's ticket page show. Services own the commit, as in services.py."""

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select, update

from app.auth.models import User
from app.booking.models import Booking, Ticket, TicketCounter
from app.booking.opening import begin_write, cfg
from app.booking.services import ENTITY, TICKET_ENTITY, BookingError, current_label
from app.booking.states import (
    TICKET_ALLOWED,
    TICKET_BOOKING,
    TICKET_STAMPS,
    BookingStatus,
    TicketStatus,
)
from app.catalog.models import Window
from app.core.access import scope
from app.core.links import make_link
from app.core.models import audit
from app.core.states import Step, lock, machine, move
from app.core.timeutil import local_today
from app.extensions import db
from app.progress.notify import noticed, push_or_sms
from app.ratings import services as ratings


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
    digits = "".join(ch for ch in (raw or "") if ch.isdecimal())
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


def _ticket_effects(step: Step) -> None:
    """A call (or re-call) stamps the time; the ticket's booking moves with it."""
    ticket = step.record
    if step.to == TicketStatus.CALLED:
        if step.current == TicketStatus.CALLED:
            ticket.recalls += 1
        ticket.called_at = step.now
    if not ticket.booking_id:
        return
    window = db.session.get(Window, ticket.window_id) if ticket.window_id else None
    where = window.name if window else ""
    public = {TicketStatus.CALLED: f"{ticket.code} 请到 {where} 办理",
              TicketStatus.NO_SHOW: f"{ticket.code} 叫号未到,已过号"}.get(step.to)
    move(ticket.booking, TICKET_BOOKING[step.to], actor_id=step.actor_id, public_note=public)
    if step.to == TicketStatus.SERVED:
        _invite_rating(ticket, step.actor_id, step.now)


TICKETS = machine(
    Ticket, entity=TICKET_ENTITY, allowed=TICKET_ALLOWED, stamps=TICKET_STAMPS,
    apply=_ticket_effects,
    refused=lambda ticket, current, to: BookingError(
        f"{ticket.code} 当前状态不能这样操作,请刷新页面", 409))


def ticket_transition(ticket: Ticket, to: TicketStatus, actor_id: int,
                      window: Window | None = None) -> None:
    """Move a ticket (and its booking): a call names the window that makes it."""
    changes = {"window_id": window.id} if window is not None else {}
    window = window or (db.session.get(Window, ticket.window_id) if ticket.window_id else None)
    move(ticket, to, actor_id, f"{ticket.code} {window.name if window else ''}", **changes)


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
            lock(ticket)
            if ticket.status != TicketStatus.WAITING:
                continue  # called by another window meanwhile: a call there is not a re-call
            ticket_transition(ticket, TicketStatus.CALLED, clerk.id, window)
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


# ---- what the pages read ----

def ticket_of(booking_id: int) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.booking_id == booking_id))


def ticket_by_id(ticket_id: int | None) -> Ticket | None:
    return db.session.get(Ticket, ticket_id) if ticket_id else None


def called_at(window: Window) -> Ticket | None:
    """The ticket a window is serving today, if any."""
    return db.session.scalar(select(Ticket).where(
        Ticket.window_id == window.id, Ticket.day == local_today(),
        Ticket.status == TicketStatus.CALLED))
