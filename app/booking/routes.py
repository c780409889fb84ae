"""Booking pages for citizens, the clerk's check-in and queue screens, admin rules, hall display."""

from datetime import date

import segno
from flask import (
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from app.auth.relatives import RELATIONS, check_relative
from app.booking import bp, opening, record, services, tickets
from app.booking.models import Booking
from app.booking.services import BookingError
from app.booking.states import LABELS, TICKET_LABELS
from app.catalog.models import Bundle, ServiceItem
from app.catalog.services import cached_item, merge_materials
from app.core.access import (
    VIEW,
    own_view,
    public_view,
)
from app.core.ids import parse_id
from app.core.links import allows
from app.core.readonly import read_only
from app.core.timeutil import WEEKDAY_NAMES, local_today, utcnow
from app.htmx import render

RELATIVE_FIELDS = ("relative_name", "relative_relation", "relative_phone")


@bp.app_context_processor
def _labels():
    return {"booking_labels": LABELS, "ticket_labels": TICKET_LABELS, "weekdays": WEEKDAY_NAMES,
            "slot_url": slot_url, "slot_key": opening.slot_key}


def slot_url(slot, **args) -> str:
    """The confirm page of a slot, whether or not its row is made yet (opening.day_slots)."""
    if slot.id:
        return url_for("booking.confirm", slot_id=slot.id, **args)
    rule_id, stamp = opening.slot_key(slot).split("-")
    return url_for("booking.confirm_unsaved", rule_id=int(rule_id), stamp=stamp, **args)


def _item(code: str) -> ServiceItem:
    """The item of the hall and day pages, from the catalog's in-process copy (with its halls):
    these pages only show it, and every booking reads its slot and rule from the database."""
    item = cached_item(code)
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
    return services.bundle_by_code(code, active=True)


def _own(booking_id: int, allow_link: bool = False) -> Booking:
    """The signed-in citizen's booking (or, to view it, one a link or lookup opened); else 404."""
    booking = services.booking_by_id(booking_id)
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
@read_only
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
    bundle = services.bundle_by_code(code)
    if bundle is None:
        abort(404)
    lead = _bundle_lead(bundle) if bundle.retired_at is None else None
    if lead is None:
        raise BookingError("这件事暂不支持网上预约", 410,
                           back_url=url_for("catalog.bundle", code=code))
    return _halls_page(lead, bundle)


def _halls_page(item: ServiceItem, bundle: Bundle | None):
    halls = opening.halls_with_rules(item)
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
@read_only
def slots(code: str, hall_id: int):
    """Step 2: a strip of days, and the chosen day's slots with places left (htmx)."""
    item = _item(code)
    hall = next((h for h in item.halls if h.id == hall_id), None)
    if hall is None and services.hall_by_id(hall_id) is None:
        abort(404)
    bundle = _flow_bundle()
    change = _change_of(request.args.get("change"))
    if item.retired_at is not None or not item.bookable or hall is None:
        raise BookingError("该事项在这个大厅不能网上预约", 410,
                           back_url=url_for("catalog.guide", code=code))
    opened = opening.plan(hall.id, item.id)
    days = opened.days
    try:
        day = date.fromisoformat(request.args.get("day", "")) if request.args.get("day") else None
    except ValueError:
        day = None
    problem = None
    if day is not None and day not in days:
        problem = ("该日期已过或不在可预约范围内,请选择下面的日期" if day < local_today()
                   or day > opened.last else "这一天大厅不办理该事项的预约")
        day = None
    now = utcnow()
    if day is None:  # the first day with a place left
        day, day_slots = opening.first_open_day(opened, now)
    else:
        day_slots = opening.day_slots(hall.id, item.id, day, opened.rules_on(day))
    bar = services.bar_message(current_user.id) if current_user.is_authenticated else None
    return render("booking/slots.html", "booking/_slots.html", item=item, hall=hall,
                  bundle=bundle, change=change, days=days, day=day, slots=day_slots, now=now,
                  open_=lambda s: services.slot_open(s, now), problem=problem, bar=bar,
                  status=400 if problem else 200)


@bp.route("/book/slot/<int:slot_id>", methods=["GET", "POST"])
@own_view()
@read_only  # the GET: outside the sign-in check, whose user query would start the transaction
@login_required
def confirm(slot_id: int):
    """Step 3: 核对信息, then book (a double submit gets the first result)."""
    return _confirm(services.slot_to_confirm(slot_id))


@bp.route("/book/slot/<int:rule_id>-<stamp>", methods=["GET", "POST"])
@own_view()
@read_only  # the GET
@login_required
def confirm_unsaved(rule_id: int, stamp: str):
    """Step 3 for a time nobody has booked yet: its slot row is made only when it is booked."""
    return _confirm(opening.unsaved_slot(rule_id, stamp))


def _confirm(slot):
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
            # A time nobody had booked gets its row now; a refusal rolls that row back, so the
            # page below is drawn from `slot` as shown, never from the row.
            made = opening.made_slot(slot)
            booking = services.book(current_user, made.id, request.form.get("idem", ""),
                                    birth_year, bundle, change, relative)
            return redirect(url_for("booking.view", booking_id=booking.saved_id), code=303)
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
    rows = services.bookings_of(current_user.id)
    now = utcnow()
    upcoming = sorted([b for b in rows if b.ends_at >= now and b.status in (
        "booked", "checked_in", "called")], key=lambda b: b.starts_at)
    past = [b for b in rows if b not in upcoming]
    return render_template("booking/mine.html", upcoming=upcoming, past=past,
                           bar=services.bar_message(current_user.id))


@bp.get("/bookings/<int:booking_id>")
@own_view(VIEW)
@read_only
def view(booking_id: int):
    """The confirmation (回执): number, what to bring, QR for check-in, calendar, cancel/change."""
    booking = _own(booking_id, allow_link=True)
    qr = Markup(segno.make(booking.number, error="m").svg_inline(
        border=2, omitsize=True, title=f"预约号 {booking.number}"))
    ticket = tickets.ticket_of(booking.id)
    timeline = services.public_steps(booking)
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
            return redirect(url_for("booking.view", booking_id=booking_id), code=303)
        except BookingError as err:
            error = err
    elif not services.can_cancel(booking):
        error = BookingError("这条预约已不能在网上取消(已取消、已签到或距预约时间不足 "
                             f"{services.cfg('CANCEL_LEAD_MINUTES') / 60:g} 小时)", 409)
    bar = record.bar_if_cancelled(current_user.id) if error is None else (None, "")
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
    row = tickets.ticket_of(booking.id)
    if row is None:
        return redirect(url_for("booking.view", booking_id=booking.id))
    return render("booking/ticket.html", "booking/_ticket.html", booking=booking,
                  place=tickets.place_in_queue(row))
