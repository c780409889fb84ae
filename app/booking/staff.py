"""The clerk's side of booking: the day's bookings, check-in and the queue at a window, and the hall
display."""

from datetime import date, timedelta

from flask import (
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from app.booking import bp, services, tickets
from app.booking.models import Booking
from app.booking.services import BookingError
from app.booking.states import BookingStatus
from app.catalog.models import Hall
from app.core.access import (
    DESK,
    Scope,
    public_view,
    scope,
    staff_view,
)
from app.core.ids import parse_id
from app.core.timeutil import local_today, to_local
from app.htmx import render


@bp.get("/clerk/bookings")
@staff_view(Scope.HALL)
def clerk_day():
    """Today's (or a chosen day's) bookings per window group and time, with counts."""
    hall = scope().hall()
    try:
        day = date.fromisoformat(request.args.get("day", "")) or local_today()
    except ValueError:
        day = local_today()
    rows = services.day_bookings(hall.id, day)
    groups: dict[str, dict[str, list[Booking]]] = {}
    for b in rows:
        groups.setdefault(b.slot.window_group, {}).setdefault(
            to_local(b.starts_at).strftime("%H:%M"), []).append(b)
    counts = {s: sum(1 for b in rows if b.status == s) for s in BookingStatus}
    figures = services.item_figures(hall.id) if scope().admin else None
    return render_template("booking/clerk_day.html", hall=hall, day=day, groups=groups,
                           halls=halls_to_pick(),
                           counts=counts, total=len(rows), figures=figures,
                           windows=tickets.hall_groups(hall.id),
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1))


def halls_to_pick() -> list[Hall]:
    """The halls a city-wide admin may switch between; nobody else picks a hall."""
    if not scope().city_wide:
        return []
    return services.all_halls()


def picked_hall(hall_id: int) -> int | None:
    """The hall to keep in the next URL: only a city-wide admin's pick means anything."""
    return hall_id if scope().city_wide else None


def _queue_page(error: BookingError | None = None, typed: str = ""):
    hall = scope().hall()
    groups = tickets.hall_groups(hall.id)
    window_id = current_user.window_id  # remembered per account, on every device
    window = next((w for ws in groups.values() for w in ws if w.id == window_id), None)
    current = tickets.called_at(window) if window else None
    issued = tickets.ticket_by_id(session.pop("booking_issued", None))
    return render_template("booking/queue.html", hall=hall, groups=groups, window=window,
                           today=local_today(), current=current,
                           waiting=tickets.waiting_counts(hall.id),
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
        tickets.choose_window(current_user, parse_id(window_id))
    except BookingError as err:
        return _queue_page(err)
    return redirect(url_for("booking.queue"), code=303)


@bp.post("/clerk/queue/checkin")
@staff_view(Scope.HALL, roles=DESK)
def queue_checkin():
    typed = request.form.get("number", "")
    try:
        ticket_row = tickets.check_in(current_user, typed)
    except BookingError as err:
        return _queue_page(err, typed)
    session["booking_issued"] = ticket_row.id
    return redirect(url_for("booking.queue"), code=303)


@bp.post("/clerk/queue/walkin")
@staff_view(Scope.HALL, roles=DESK)
def queue_walkin():
    try:
        ticket_row = tickets.walk_in(current_user, request.form.get("group", ""),
                                      request.form.get("senior") == "1")
    except BookingError as err:
        return _queue_page(err)
    session["booking_issued"] = ticket_row.id
    return redirect(url_for("booking.queue"), code=303)


@bp.post("/clerk/queue/call")
@staff_view(Scope.HALL, roles=DESK)
def queue_call():
    try:
        tickets.call_next(current_user, current_user.window_id)
    except BookingError as err:
        return _queue_page(err)
    return redirect(url_for("booking.queue"), code=303)


@bp.post("/clerk/queue/<int:ticket_id>/<action>")
@staff_view(Scope.HALL, roles=DESK)
def queue_act(ticket_id: int, action: str):
    try:
        tickets.act(current_user, ticket_id, action)
    except BookingError as err:
        return _queue_page(err)
    return redirect(url_for("booking.queue"), code=303)


@bp.get("/halls/<int:hall_id>/display")
@public_view
def display(hall_id: int):
    """Large screen: the latest called tickets and their windows, polled."""
    hall = services.hall_by_id(hall_id) or abort(404)
    rows = tickets.display_rows(hall.id)
    return render("booking/display.html", "booking/_display.html", hall=hall, rows=rows,
                  waiting=tickets.waiting_counts(hall.id))
