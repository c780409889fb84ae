"""帮办代办 pages: the citizen asks and confirms; the hall's helpers handle the five steps."""

from datetime import date

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.catalog.halls import list_halls
from app.catalog.models import Hall, ServiceItem
from app.core.access import ADMINS, Scope, own_view, scope, staff_view
from app.core.ids import parse_id
from app.help import areas, behalf, bp, services, steps
from app.help.models import HelpRequest
from app.help.rules import HelpError
from app.help.services import RequestForm
from app.help.states import LABELS, MODE_HINTS, MODES, STEPS


@bp.app_context_processor
def _labels():
    return {"help_labels": LABELS, "help_modes": MODES}


def _item_from(code: str | None) -> ServiceItem | None:
    if not code:
        return None
    return services.open_item(code) or abort(404)


# ---- the citizen ----

@bp.route("/help/new", methods=["GET", "POST"])
@own_view()
@login_required
def new():
    """Ask for help with an item (from its guide) or with "not sure which" (from care mode)."""
    item = _item_from(request.values.get("item"))
    halls = services.halls_for(item)
    if request.method == "POST":
        form = RequestForm(**{k: request.form.get(k, "") for k in (
            "hall_id", "mode", "contact_name", "contact_phone", "area_id", "address", "reason",
            "details")})
        row = services.create(current_user, item, form)
        if row is not None:
            return redirect(url_for("help.view", request_id=row.id), 303)
        status = form.status
    else:
        form = RequestForm(hall_id=str(halls[0].id) if len(halls) == 1 else "",
                           mode=request.args.get("mode", ""),
                           contact_name=current_user.name or "",
                           contact_phone=current_user.phone or "")
        status = 200
    hall_areas = {h.id: areas.areas(h.id) for h in halls}
    return render_template("help/new.html", item=item, halls=halls, areas=hall_areas, form=form,
                           modes=MODES, hints=MODE_HINTS), status


@bp.get("/help/mine")
@own_view()
@login_required
def mine():
    return render_template("help/mine.html", rows=services.requests_of(current_user))


def _own(request_id: int) -> HelpRequest:
    return services.for_citizen(request_id, current_user)


def _view_page(row: HelpRequest, error: HelpError | None = None, code: str = ""):
    return render_template(
        "help/view.html", row=row, steps=services.public_steps(row), step_names=STEPS,
        reached=_reached(row), invite=steps.rating_invite(row), error=error, code=code
    ), error.status if error else 200


def _reached(row: HelpRequest) -> set[str]:
    order = [s for s, _ in STEPS]
    done = {n.to_status for n in services.notes(row)}
    reached = {s for s in order if s in done}
    invite = steps.rating_invite(row)
    if invite is not None and invite.rated_at is not None:
        reached.add("rated")
    return reached


@bp.get("/help/<int:request_id>")
@own_view()
@login_required
def view(request_id: int):
    """The citizen's request: the five steps, the helper, feedback, and what to confirm."""
    return _view_page(_own(request_id))


@bp.post("/help/<int:request_id>/confirm")
@own_view()
@login_required
def confirm(request_id: int):
    """The SMS code that turns the helper's booking or application into the citizen's own."""
    row = _own(request_id)
    code = request.form.get("code", "")
    try:
        action = behalf.confirm(row, current_user, code)
    except HelpError as err:
        if err.status == 404:
            raise
        return _view_page(services.for_citizen(request_id, current_user), err, code)
    if action.booking_id:
        return redirect(url_for("booking.view", booking_id=action.booking_id), 303)
    if action.application_id:
        return redirect(url_for("applications.applicant", app_id=action.application_id), 303)
    return redirect(url_for("help.view", request_id=row.id), 303)


@bp.post("/help/<int:request_id>/withdraw")
@own_view()
@login_required
def withdraw(request_id: int):
    row = _own(request_id)
    services.withdraw(row, current_user)
    return redirect(url_for("help.view", request_id=row.id), 303)


# ---- the hall's helpers ----

@bp.get("/staff/help")
@staff_view(Scope.HALL)
def staff_requests():
    """帮办代办: the hall's requests, oldest first; "mine" is what this helper holds."""
    show = request.args.get("show", "open")
    show = show if show in ("open", "mine", "all") else "open"
    return render_template("help/staff_list.html", rows=services.requests_for(current_user, show),
                           show=show)


def _slots(row: HelpRequest):
    """The item and day the helper is looking at for an on-behalf booking, and its slots."""
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = None
    return behalf.slot_choices(row, request.args.get("item", ""), day)


def _staff_page(row: HelpRequest, error: HelpError | None = None, typed: dict | None = None,
                status: int = 200):
    hall_items, item, days, day, slots = _slots(row)
    return render_template(
        "help/staff_view.html", row=row, notes=services.notes(row),
        helpers=services.helpers_of(row.hall_id), error=error, typed=typed or {},
        hall_items=hall_items, item=item, days=days, day=day, slots=slots,
        invite=steps.rating_invite(row), mine=row.helper_id == current_user.id), status


@bp.get("/staff/help/<int:request_id>")
@staff_view(Scope.HALL)
def staff_request(request_id: int):
    return _staff_page(services.for_staff(request_id, current_user))


STEP_ACTIONS = {"review": steps.review, "feedback": steps.give_feedback,
                "accept": steps.accept, "decline": steps.decline, "note": steps.add_note}


@bp.post("/staff/help/<int:request_id>/assign")
@staff_view(Scope.HALL)
def staff_assign(request_id: int):
    row = services.for_staff(request_id, current_user)
    raw = request.form.get("helper_id", "")
    steps.assign(row, current_user, parse_id(raw))
    return redirect(url_for("help.staff_request", request_id=row.id), 303)


@bp.post("/staff/help/<int:request_id>/<action>")
@staff_view(Scope.HALL)
def staff_step(request_id: int, action: str):
    """初审, 反馈, 受理, 不予帮办 or a working note: each by the named helper only."""
    if action not in STEP_ACTIONS:
        abort(404)
    row = services.for_staff(request_id, current_user)
    text = request.form.get("text", "")
    try:
        STEP_ACTIONS[action](row, current_user, text)
    except HelpError as err:
        if err.status != 400:
            raise
        return _staff_page(row, err, {action: text}, 400)
    return redirect(url_for("help.staff_request", request_id=row.id), 303)


@bp.post("/staff/help/<int:request_id>/behalf/<kind>")
@staff_view(Scope.HALL)
def staff_behalf(request_id: int, kind: str):
    """Start a booking or an application for the citizen; they confirm it with an SMS code."""
    row = services.for_staff(request_id, current_user)
    if kind == "booking":
        behalf.start_booking(row, current_user, request.form.get("slot_id", ""))
    elif kind == "application":
        behalf.start_application(row, current_user, parse_id(request.form.get("item_id", "")))
    else:
        abort(404)
    return redirect(url_for("help.staff_request", request_id=row.id), 303)


# ---- the hall admin: the home-visit service area ----

def _admin_hall() -> Hall:
    """The hall whose areas are shown: the admin's own, or the one a city-wide admin picked."""
    return scope().hall()


@bp.route("/staff/help/areas", methods=["GET", "POST"])
@staff_view(Scope.HALL, roles=ADMINS)
def staff_areas():
    """上门服务范围: the 街道/乡镇 the hall's helpers visit."""
    hall = _admin_hall()
    error, name, status = None, "", 200
    if request.method == "POST":
        try:
            if request.form.get("remove"):
                areas.remove_area(hall, parse_id(request.form["remove"]) or 0, current_user.id)
            else:
                name = request.form.get("name", "")
                areas.add_area(hall, name, current_user.id)
            return redirect(url_for("help.staff_areas", hall=_picked(hall)), 303)
        except HelpError as err:
            error, status = err, err.status
    halls = list_halls() if scope().city_wide else []
    return render_template("help/areas.html", hall=hall, areas=areas.areas(hall.id),
                           error=error, name=name, halls=halls, picked=_picked(hall)), status


def _picked(hall: Hall) -> int | None:
    """The hall to keep in the next URL: only a city-wide admin's pick means anything."""
    return hall.id if scope().city_wide else None
