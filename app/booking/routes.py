"""Booking pages for citizens, the clerk's check-in and queue screens, admin rules, hall display."""

from datetime import date, timedelta

import segno
from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.booking import bp, services
from app.booking.models import Booking, Slot, SlotRule, Ticket
from app.booking.services import BookingError
from app.booking.states import LABELS, TICKET_LABELS, WEEKDAYS, BookingStatus
from app.catalog.models import Bundle, Hall, ServiceItem
from app.catalog.services import merge_materials
from app.core.access import (
    ADMINS,
    DESK,
    VIEW,
    Scope,
    own_view,
    public_view,
    scope,
    staff_view,
)
from app.core.ids import parse_id
from app.core.links import allows
from app.core.models import AuditLog
from app.core.relatives import RELATIONS, check_relative
from app.core.timeutil import to_local, utcnow
from app.core.workdays import CalendarDay
from app.extensions import db
from app.htmx import render

RELATIVE_FIELDS = ("relative_name", "relative_relation", "relative_phone")


@bp.app_context_processor
def _labels():
    return {"booking_labels": LABELS, "ticket_labels": TICKET_LABELS, "weekdays": WEEKDAYS}


def _item(code: str) -> ServiceItem:
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if item is None:
        abort(404)
    return item


def _bundle_lead(bundle: Bundle) -> ServiceItem | None:
    """A bundle is booked as one visit on the slots of its first bookable item."""
    return next((i for i in bundle.items if i.bookable and i.retired_at is None), None)


def _flow_bundle() -> Bundle | None:
    code = request.args.get("bundle") or request.form.get("bundle")
    if not code:
        return None
    return db.session.scalar(select(Bundle).where(Bundle.code == code,
                                                  Bundle.retired_at.is_(None)))


def _own(booking_id: int, allow_link: bool = False) -> Booking:
    """The signed-in citizen's booking (or, to view it, one a link or lookup opened); else 404."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    mine = current_user.is_authenticated and booking.citizen_id == current_user.id
    if not mine and not (allow_link and allows("booking", booking.id, VIEW)):
        abort(404)
    return booking


def _change_of(raw) -> Booking | None:
    if not raw:
        return None
    if not current_user.is_authenticated:
        abort(404)
    return _own(parse_id(raw) or 0)


# ---- citizen flow ----

@bp.get("/book/<code>")
@public_view
def start(code: str):
    """Step 1: which hall, for one item."""
    item = _item(code)
    if item.retired_at is not None or not item.bookable:
        raise BookingError("该事项已停止网上预约,请查看办事指南了解其他办理方式", 410,
                           back_url=url_for("catalog.guide", code=code))
    return _halls_page(item, None)


@bp.get("/book/bundle/<code>")
@public_view
def start_bundle(code: str):
    """Step 1 for 一件事: one visit for the whole bundle."""
    bundle = db.session.scalar(select(Bundle).where(Bundle.code == code))
    if bundle is None:
        abort(404)
    lead = _bundle_lead(bundle) if bundle.retired_at is None else None
    if lead is None:
        raise BookingError("这件事暂不支持网上预约", 410,
                           back_url=url_for("catalog.bundle", code=code))
    return _halls_page(lead, bundle)


def _halls_page(item: ServiceItem, bundle: Bundle | None):
    halls = [h for h in item.halls if db.session.scalar(select(SlotRule.id).where(
        SlotRule.hall_id == h.id, SlotRule.item_id == item.id, SlotRule.active.is_(True)))]
    change = _change_of(request.args.get("change"))
    if len(halls) == 1 and not request.args.get("all"):
        return redirect(url_for("booking.slots", code=item.code, hall_id=halls[0].id,
                                bundle=bundle.code if bundle else None,
                                change=change.id if change else None))
    bar = services.bar_message(current_user.id) if current_user.is_authenticated else None
    return render_template("booking/halls.html", item=item, bundle=bundle, halls=halls, bar=bar,
                           change=change)


@bp.get("/book/<code>/hall/<int:hall_id>")
@public_view
def slots(code: str, hall_id: int):
    """Step 2: a strip of days, and the chosen day's slots with places left (htmx)."""
    item = _item(code)
    hall = db.get_or_404(Hall, hall_id)
    bundle = _flow_bundle()
    change = _change_of(request.args.get("change"))
    if item.retired_at is not None or not item.bookable or hall not in item.halls:
        raise BookingError("该事项在这个大厅不能网上预约", 410,
                           back_url=url_for("catalog.guide", code=code))
    days = services.bookable_days(hall.id, item.id)
    try:
        day = date.fromisoformat(request.args.get("day", "")) if request.args.get("day") else None
    except ValueError:
        day = None
    problem = None
    if day is not None and day not in days:
        problem = ("该日期已过或不在可预约范围内,请选择下面的日期" if day < services.local_today()
                   or day > services.horizon(hall.id) else "这一天大厅不办理该事项的预约")
        day = None
    if day is None:
        day = next((d for d in days if _has_open(hall.id, item.id, d)), days[0] if days else None)
    day_slots = services.ensure_slots(hall.id, item.id, day) if day else []
    now = utcnow()
    bar = services.bar_message(current_user.id) if current_user.is_authenticated else None
    return render("booking/slots.html", "booking/_slots.html", item=item, hall=hall,
                  bundle=bundle, change=change, days=days, day=day, slots=day_slots, now=now,
                  open_=lambda s: services.slot_open(s, now), problem=problem, bar=bar,
                  status=400 if problem else 200)


def _has_open(hall_id: int, item_id: int, day: date) -> bool:
    return any(s.left and services.slot_open(s) for s in
               services.ensure_slots(hall_id, item_id, day))


@bp.route("/book/slot/<int:slot_id>", methods=["GET", "POST"])
@own_view()
@login_required
def confirm(slot_id: int):
    """Step 3: 核对信息, then book (a double submit gets the first result)."""
    # One query for the slot, its item and hall: this page answers the crowd at a full slot.
    slot = db.session.get(Slot, slot_id, options=[joinedload(Slot.item), joinedload(Slot.hall)])
    bundle = _flow_bundle()
    change = _change_of(request.values.get("change"))
    if slot is None:
        raise BookingError("没有找到这个预约时段,请重新选择时间", 404)
    form = {"birth_year": request.form.get("birth_year", ""),
            "idem": request.form.get("idem") or services.new_idem_key(),
            **{key: request.form.get(key, "") for key in RELATIVE_FIELDS}}
    if request.method == "GET" and change is not None:  # 改约 keeps the family member
        form.update({key: getattr(change, key) or "" for key in RELATIVE_FIELDS})
    error = None
    if request.method == "POST":
        try:
            birth_year = services.check_birth_year(form["birth_year"])
            relative = _relative(form)
            booking = services.book(current_user, slot.id, request.form.get("idem", ""),
                                    birth_year, bundle, change, relative)
            return redirect(url_for("booking.view", booking_id=booking.id), code=303)
        except BookingError as err:
            error = err
    else:
        bar = services.bar_message(current_user.id) if not change else None
        if bar:
            error = BookingError(bar, 403)
    back_url = url_for("booking.slots", code=slot.item.code, hall_id=slot.hall_id,
                       day=slot.day.isoformat(), bundle=bundle.code if bundle else None,
                       change=change.id if change else None)
    return render_template("booking/confirm.html", slot=slot, bundle=bundle, change=change,
                           form=form, error=error, back_url=back_url, relations=RELATIONS,
                           phone=current_user.masked_phone), error.status if error else 200


def _relative(form: dict) -> dict | None:
    """为家人预约: the family member typed on the confirm page, or None."""
    relative, errors = check_relative(*(form[key] for key in RELATIVE_FIELDS))
    if errors:
        field, message = next(iter(errors.items()))
        raise BookingError(message, 400, field=field)
    return relative


def _materials(booking: Booking):
    items = booking.bundle.items if booking.bundle else [booking.item]
    return merge_materials(items)


@bp.get("/bookings")
@own_view()
@login_required
def mine():
    """预约: the signed-in person's bookings, upcoming first."""
    rows = db.session.scalars(select(Booking).where(Booking.citizen_id == current_user.id)
                              .order_by(Booking.starts_at.desc()).limit(50)).all()
    now = utcnow()
    upcoming = sorted([b for b in rows if b.ends_at >= now and b.status in (
        "booked", "checked_in", "called")], key=lambda b: b.starts_at)
    past = [b for b in rows if b not in upcoming]
    return render_template("booking/mine.html", upcoming=upcoming, past=past,
                           bar=services.bar_message(current_user.id))


@bp.get("/bookings/<int:booking_id>")
@own_view(VIEW)
def view(booking_id: int):
    """The confirmation (回执): number, what to bring, QR for check-in, calendar, cancel/change."""
    booking = _own(booking_id, allow_link=True)
    qr = Markup(segno.make(booking.number, error="m").svg_inline(
        border=2, omitsize=True, title=f"预约号 {booking.number}"))
    ticket = db.session.scalar(select(Ticket).where(Ticket.booking_id == booking.id))
    timeline = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "booking", AuditLog.entity_id == booking.id,
        AuditLog.public_note.is_not(None)).order_by(AuditLog.id)).all()
    wechat = "MicroMessenger" in (request.user_agent.string or "")
    mine_ = current_user.is_authenticated and current_user.id == booking.citizen_id
    return render_template("booking/view.html", booking=booking, qr=qr, ticket=ticket,
                           materials=_materials(booking), timeline=timeline, wechat=wechat,
                           mine=mine_, can_cancel=mine_ and services.can_cancel(booking))


@bp.get("/bookings/<int:booking_id>.ics")
@own_view(VIEW)
def ics(booking_id: int):
    """The booking as a calendar event."""
    booking = _own(booking_id, allow_link=True)

    def esc(value: str) -> str:
        return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")

    stamp = "%Y%m%dT%H%M%SZ"
    body = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//palm-service//booking//ZH",
        "METHOD:PUBLISH", "BEGIN:VEVENT", f"UID:booking-{booking.number}@palm-service",
        f"DTSTAMP:{utcnow().strftime(stamp)}", f"DTSTART:{booking.starts_at.strftime(stamp)}",
        f"DTEND:{booking.ends_at.strftime(stamp)}",
        f"SUMMARY:{esc('办理' + booking.item.name + '(预约号 ' + booking.number + ')')}",
        f"LOCATION:{esc(booking.hall.name + ' ' + booking.hall.address)}",
        f"DESCRIPTION:{esc('请带齐材料,到大厅后出示预约二维码签到取号。')}",
        "BEGIN:VALARM", "TRIGGER:-PT1H", "ACTION:DISPLAY", "DESCRIPTION:预约提醒", "END:VALARM",
        "END:VEVENT", "END:VCALENDAR", ""])
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="booking-{booking.number}.ics"'})


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@own_view()
@login_required
def cancel(booking_id: int):
    """Cancel, after one question."""
    booking = _own(booking_id)
    error = None
    if request.method == "POST":
        try:
            services.cancel(current_user, booking)
            return redirect(url_for("booking.view", booking_id=booking.id), code=303)
        except BookingError as err:
            error = err
    elif not services.can_cancel(booking):
        error = BookingError("这条预约已不能在网上取消(已取消、已签到或距预约时间不足 "
                             f"{services.cfg('CANCEL_LEAD_MINUTES') / 60:g} 小时)", 409)
    bar = services.bar_if_cancelled(current_user.id) if error is None else (None, "")
    return render_template("booking/cancel.html", booking=booking, error=error, bar=bar), (
        error.status if error else 200)


@bp.get("/bookings/<int:booking_id>/change")
@own_view()
@login_required
def change(booking_id: int):
    """改约: pick a new time; the old place is kept until the new one is taken."""
    booking = _own(booking_id)
    if not services.can_cancel(booking):
        raise BookingError("这条预约已不能改约(已取消、已签到或距预约时间不足 "
                           f"{services.cfg('CANCEL_LEAD_MINUTES') / 60:g} 小时)", 409,
                           back_url=url_for("booking.view", booking_id=booking.id))
    return redirect(url_for("booking.slots", code=booking.item.code, hall_id=booking.hall_id,
                            change=booking.id,
                            bundle=booking.bundle.code if booking.bundle else None))


@bp.get("/bookings/<int:booking_id>/ticket")
@own_view(VIEW)
def ticket(booking_id: int):
    """The citizen's queue number, how many are ahead and the wait, refreshed by polling."""
    booking = _own(booking_id, allow_link=True)
    row = db.session.scalar(select(Ticket).where(Ticket.booking_id == booking.id))
    if row is None:
        return redirect(url_for("booking.view", booking_id=booking.id))
    return render("booking/ticket.html", "booking/_ticket.html", booking=booking,
                  place=services.place_in_queue(row))


# ---- clerk ----

@bp.get("/clerk/bookings")
@staff_view(Scope.HALL)
def clerk_day():
    """Today's (or a chosen day's) bookings per window group and time, with counts."""
    hall = scope().hall()
    try:
        day = date.fromisoformat(request.args.get("day", "")) or services.local_today()
    except ValueError:
        day = services.local_today()
    rows = services.day_bookings(hall.id, day)
    groups: dict[str, dict[str, list[Booking]]] = {}
    for b in rows:
        groups.setdefault(b.slot.window_group, {}).setdefault(
            to_local(b.starts_at).strftime("%H:%M"), []).append(b)
    counts = {s: sum(1 for b in rows if b.status == s) for s in BookingStatus}
    figures = services.item_figures(hall.id) if scope().admin else None
    return render_template("booking/clerk_day.html", hall=hall, day=day, groups=groups,
                           halls=_halls_to_pick(),
                           counts=counts, total=len(rows), figures=figures,
                           windows=services.hall_groups(hall.id),
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1))


def _halls_to_pick() -> list[Hall]:
    """The halls a city-wide admin may switch between; nobody else picks a hall."""
    if not scope().city_wide:
        return []
    return db.session.scalars(select(Hall).order_by(Hall.id)).all()


def _picked(hall_id: int) -> int | None:
    """The hall to keep in the next URL: only a city-wide admin's pick means anything."""
    return hall_id if scope().city_wide else None


def _queue_page(error: BookingError | None = None, typed: str = ""):
    hall = scope().hall()
    groups = services.hall_groups(hall.id)
    window_id = current_user.window_id  # remembered per account, on every device
    window = next((w for ws in groups.values() for w in ws if w.id == window_id), None)
    current = db.session.scalar(select(Ticket).where(
        Ticket.window_id == window.id, Ticket.day == services.local_today(),
        Ticket.status == "called")) if window else None
    issued = db.session.get(Ticket, session.pop("booking_issued", 0) or 0)
    return render_template("booking/queue.html", hall=hall, groups=groups, window=window,
                           today=services.local_today(), current=current,
                           waiting=services.waiting_counts(hall.id),
                           error=error, typed=typed, issued=issued), (
        error.status if error else 200)


@bp.get("/clerk/queue")
@staff_view(Scope.HALL, roles=DESK)
def queue():
    """Check-in by QR or number, walk-in tickets, and calling at the clerk's window."""
    return _queue_page()


@bp.post("/clerk/queue/window")
@staff_view(Scope.HALL, roles=DESK)
def queue_window():
    window_id = request.form.get("window_id", "")
    try:
        services.choose_window(current_user, parse_id(window_id))
    except BookingError as err:
        return _queue_page(err)
    return redirect(url_for("booking.queue"), code=303)


@bp.post("/clerk/queue/checkin")
@staff_view(Scope.HALL, roles=DESK)
def queue_checkin():
    typed = request.form.get("number", "")
    try:
        ticket_row = services.check_in(current_user, typed)
    except BookingError as err:
        return _queue_page(err, typed)
    session["booking_issued"] = ticket_row.id
    return redirect(url_for("booking.queue"), code=303)


@bp.post("/clerk/queue/walkin")
@staff_view(Scope.HALL, roles=DESK)
def queue_walkin():
    try:
        ticket_row = services.walk_in(current_user, request.form.get("group", ""),
                                      request.form.get("senior") == "1")
    except BookingError as err:
        return _queue_page(err)
    session["booking_issued"] = ticket_row.id
    return redirect(url_for("booking.queue"), code=303)


@bp.post("/clerk/queue/call")
@staff_view(Scope.HALL, roles=DESK)
def queue_call():
    try:
        services.call_next(current_user, current_user.window_id)
    except BookingError as err:
        return _queue_page(err)
    return redirect(url_for("booking.queue"), code=303)


@bp.post("/clerk/queue/<int:ticket_id>/<action>")
@staff_view(Scope.HALL, roles=DESK)
def queue_act(ticket_id: int, action: str):
    try:
        services.act(current_user, ticket_id, action)
    except BookingError as err:
        return _queue_page(err)
    return redirect(url_for("booking.queue"), code=303)


# ---- hall display ----

@bp.get("/halls/<int:hall_id>/display")
@public_view
def display(hall_id: int):
    """Large screen: the latest called tickets and their windows, polled."""
    hall = db.get_or_404(Hall, hall_id)
    rows = services.display_rows(hall.id)
    return render("booking/display.html", "booking/_display.html", hall=hall, rows=rows,
                  waiting=services.waiting_counts(hall.id))


# ---- admin ----

@bp.get("/admin/booking")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_rules():
    """Slot rules and places per item, and the calendar of holidays and swapped workdays."""
    return _admin_page()


def _admin_page(error: BookingError | None = None, form=None):
    hall = scope().hall()
    rules = db.session.scalars(select(SlotRule).where(
        SlotRule.hall_id == hall.id, SlotRule.active.is_(True))
        .order_by(SlotRule.item_id, SlotRule.weekday, SlotRule.start)).all()
    items = db.session.scalars(select(ServiceItem).where(
        ServiceItem.retired_at.is_(None), ServiceItem.bookable.is_(True))
        .order_by(ServiceItem.code)).all()
    items = [i for i in items if hall in i.halls]
    cancelled = services.hall_cancellations(hall.id)
    return render_template("booking/admin.html", hall=hall, halls=_halls_to_pick(), rules=rules,
                           items=items, days=services.calendar_rows(hall.id),
                           cancelled=cancelled, cancel_sms=services.cancellation_sms(cancelled),
                           groups=services.hall_groups(hall.id), error=error,
                           city_wide=scope().city_wide, form=form or {}), (
        error.status if error else 200)


@bp.post("/admin/booking/rules")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_add_rule():
    hall = scope().hall()
    try:
        services.add_rules(hall, services.parse_rule(request.form), current_user.id)
    except BookingError as err:
        db.session.rollback()
        return _admin_page(err, request.form)
    return redirect(url_for("booking.admin_rules", hall=_picked(hall.id)), code=303)


def _rule(rule_id: int) -> SlotRule:
    rule = db.session.get(SlotRule, rule_id) or abort(404)
    scope().change(rule.hall_id)
    return rule


@bp.post("/admin/booking/rules/<int:rule_id>/capacity")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_capacity(rule_id: int):
    rule = _rule(rule_id)
    raw = request.form.get("capacity", "").strip()
    if not raw.isdigit() or int(raw) > 500:
        return _admin_page(BookingError("名额应为 0-500 的整数", 400, field=f"cap-{rule.id}"))
    try:
        over = services.set_capacity(rule, int(raw), current_user.id, _confirmed_count())
    except services.NeedsConfirmation as ask:
        return _confirm_page(ask, url_for("booking.admin_capacity", rule_id=rule.id,
                                          hall=request.args.get("hall")))
    _flash_cancelled(over)
    return redirect(url_for("booking.admin_rules", hall=_picked(rule.hall_id)), code=303)


def _confirmed_count() -> int | None:
    raw = request.form.get("confirm", "")
    return int(raw) if raw.isdigit() else None


def _confirm_page(ask, action: str):
    """确认: what the change would cancel, with the form as typed to send again."""
    hall = scope().hall()
    fields = {k: v for k, v in request.form.items(multi=True)
              if k not in ("csrf_token", "confirm")}
    return render_template("booking/admin_confirm.html", hall=hall, ask=ask, action=action,
                           fields=fields, confirm=len(ask.bookings),
                           back_url=url_for("booking.admin_rules", hall=_picked(hall.id)))


def _flash_cancelled(cancelled: list) -> None:
    if cancelled:
        flash(f"已取消 {len(cancelled)} 个预约,并短信通知群众重新预约;不计入他们的取消或爽约次数",
              "info")


@bp.post("/admin/booking/rules/<int:rule_id>/retire")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_retire(rule_id: int):
    rule = _rule(rule_id)
    services.retire_rule(rule, current_user.id)
    return redirect(url_for("booking.admin_rules", hall=_picked(rule.hall_id)), code=303)


@bp.post("/admin/booking/days")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_add_day():
    hall = scope().hall()
    city = request.form.get("scope") == "city"
    scope().change(None if city else hall.id)  # a day of every hall is the city's
    try:
        _, cancelled = services.save_day(
            None if city else hall.id, request.form.get("day", ""),
            request.form.get("kind") == "workday", request.form.get("name", ""), current_user.id,
            _confirmed_count())
    except BookingError as err:
        db.session.rollback()
        return _admin_page(err, request.form)
    except services.NeedsConfirmation as ask:
        return _confirm_page(ask, url_for("booking.admin_add_day", hall=request.args.get("hall")))
    _flash_cancelled(cancelled)
    return redirect(url_for("booking.admin_rules", hall=_picked(hall.id)), code=303)


@bp.post("/admin/booking/days/<int:day_id>/delete")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_delete_day(day_id: int):
    hall = scope().hall()
    row = db.session.get(CalendarDay, day_id) or abort(404)
    scope().change(row.hall_id)  # None: a day of every hall, the city's
    services.delete_day(row, current_user.id)
    return redirect(url_for("booking.admin_rules", hall=_picked(hall.id)), code=303)
