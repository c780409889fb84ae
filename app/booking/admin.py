"""The hall admin's booking page: slot rules and places, the calendar, and the bookings that a
change would cancel (asked first)."""


from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.booking import bp, schedule, tickets
from app.booking.models import SlotRule
from app.booking.services import BookingError
from app.booking.staff import halls_to_pick, picked_hall
from app.core.access import (
    ADMINS,
    Scope,
    scope,
    staff_view,
)


@bp.get("/admin/booking")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_rules():
    """Slot rules and places per item, and the calendar of holidays and swapped workdays."""
    return _admin_page()


def _admin_page(error: BookingError | None = None, form=None):
    hall = scope().hall()
    rules, items = schedule.active_rules(hall.id), schedule.bookable_items(hall)
    cancelled = schedule.hall_cancellations(hall.id)
    return render_template("booking/admin.html", hall=hall, halls=halls_to_pick(), rules=rules,
                           items=items, days=schedule.calendar_rows(hall.id),
                           cancelled=cancelled, cancel_sms=schedule.cancellation_sms(cancelled),
                           groups=tickets.hall_groups(hall.id), error=error,
                           city_wide=scope().city_wide, form=form or {}), (
        error.status if error else 200)


@bp.post("/admin/booking/rules")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_add_rule():
    hall = scope().hall()
    try:
        schedule.add_rules(hall, schedule.parse_rule(request.form), current_user.id)
    except BookingError as err:
        return _admin_page(err, request.form)
    return redirect(url_for("booking.admin_rules", hall=picked_hall(hall.id)), code=303)


def _rule(rule_id: int) -> SlotRule:
    rule = schedule.rule_by_id(rule_id) or abort(404)
    scope().change(rule.hall_id)
    return rule


@bp.post("/admin/booking/rules/<int:rule_id>/capacity")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_capacity(rule_id: int):
    rule = _rule(rule_id)
    raw = request.form.get("capacity", "").strip()
    if not raw.isdecimal() or int(raw) > 500:
        return _admin_page(BookingError("名额应为 0-500 的整数", 400, field=f"cap-{rule.id}"))
    try:
        over = schedule.set_capacity(rule, int(raw), current_user.id, _confirmed_count())
    except schedule.NeedsConfirmation as ask:
        return _confirm_page(ask, url_for("booking.admin_capacity", rule_id=rule.id,
                                          hall=request.args.get("hall")))
    _flash_cancelled(over)
    return redirect(url_for("booking.admin_rules", hall=picked_hall(rule.hall_id)), code=303)


def _confirmed_count() -> int | None:
    raw = request.form.get("confirm", "")
    return int(raw) if raw.isdecimal() else None


def _confirm_page(ask, action: str):
    """确认: what the change would cancel, with the form as typed to send again."""
    hall = scope().hall()
    fields = {k: v for k, v in request.form.items(multi=True)
              if k not in ("csrf_token", "confirm")}
    return render_template("booking/admin_confirm.html", hall=hall, ask=ask, action=action,
                           fields=fields, confirm=len(ask.bookings),
                           back_url=url_for("booking.admin_rules", hall=picked_hall(hall.id)))


def _flash_cancelled(cancelled: list) -> None:
    if cancelled:
        flash(f"已取消 {len(cancelled)} 个预约,并短信通知群众重新预约;不计入他们的取消或爽约次数",
              "info")


@bp.post("/admin/booking/rules/<int:rule_id>/retire")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_retire(rule_id: int):
    rule = _rule(rule_id)
    schedule.retire_rule(rule, current_user.id)
    return redirect(url_for("booking.admin_rules", hall=picked_hall(rule.hall_id)), code=303)


@bp.post("/admin/booking/days")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_add_day():
    hall = scope().hall()
    city = request.form.get("scope") == "city"
    scope().change(None if city else hall.id)  # a day of every hall is the city's
    try:
        _, cancelled = schedule.save_day(
            None if city else hall.id, request.form.get("day", ""),
            request.form.get("kind") == "workday", request.form.get("name", ""), current_user.id,
            _confirmed_count())
    except BookingError as err:
        return _admin_page(err, request.form)
    except schedule.NeedsConfirmation as ask:
        return _confirm_page(ask, url_for("booking.admin_add_day", hall=request.args.get("hall")))
    _flash_cancelled(cancelled)
    return redirect(url_for("booking.admin_rules", hall=picked_hall(hall.id)), code=303)


@bp.post("/admin/booking/days/<int:day_id>/delete")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_delete_day(day_id: int):
    hall = scope().hall()
    row = schedule.calendar_day(day_id) or abort(404)
    scope().change(row.hall_id)  # None: a day of every hall, the city's
    schedule.delete_day(row, current_user.id)
    return redirect(url_for("booking.admin_rules", hall=picked_hall(hall.id)), code=303)
