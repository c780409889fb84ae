"""The wallet (我的证照), 亮证 and its check at a window, and the staff's licence pages."""

import segno
from flask import current_app, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from app.core.access import ADMINS, DESK, Scope, own_view, scope, staff_view
from app.core.links import on_link
from app.core.timeutil import utcnow
from app.extensions import limiter
from app.licences import bp, io, services, showing, uses
from app.licences.services import LicenceError
from app.licences.states import LABELS, USES
from app.licences.types import TYPES


@bp.app_context_processor
def _labels():
    """Labels only: the offers a material card makes are its route's (services.card_offers)."""
    return {"licence_labels": LABELS, "licence_uses": USES, "licence_types": TYPES}


# ---- the citizen ----

@bp.get("/licences")
@own_view()
@login_required
def wallet():
    """我的证照: the person's licences and their companies', each with its status."""
    return render_template("licences/wallet.html", rows=services.wallet(current_user.id))


@bp.get("/licences/<int:licence_id>")
@own_view()
@login_required
def view(licence_id: int):
    """One licence, 亮证, and 用证记录 (who looked, when, for what)."""
    row = services.for_holder(licence_id, current_user)
    return render_template("licences/view.html", row=row, uses=services.uses(row),
                           purpose=request.args.get("purpose", ""))


@bp.post("/licences/<int:licence_id>/show")
@own_view()
@login_required
def show(licence_id: int):
    """亮证: a QR code and a code, good for 5 minutes and one check."""
    row = services.for_holder(licence_id, current_user)
    purpose = request.form.get("purpose", "")
    try:
        shown = showing.start_show(row, current_user, purpose)
    except LicenceError as err:
        return render_template("licences/view.html", row=row, uses=services.uses(row),
                               purpose=purpose, error=err.message), err.status
    return redirect(url_for("licences.shown", show_id=shown.id), 303)


@bp.get("/licences/shows/<int:show_id>")
@own_view()
@login_required
def shown(show_id: int):
    show = showing.show_for(show_id, current_user)
    url = url_for("pages.short_link", token=show.token, _external=True)
    qr = Markup(segno.make(url, error="m").svg_inline(scale=5, dark="#1a1a1a",
                                                       omitsize=False))
    left = max(0, int((show.expires_at - utcnow()).total_seconds()))
    return render_template("licences/show.html", show=show, row=show.licence, qr=qr,
                           seconds_left=left)


# ---- the clerk's check ----

@on_link(showing.SHOW_PURPOSE)
def open_show(link):
    """A 亮证 QR opened with any camera: the clerk's check page, the token typed in for them
    (a GET changes nothing; the check is the clerk's POST)."""
    return redirect(url_for("licences.verify_page", token=link.token), 303)


@bp.get("/licences/verify")
@staff_view(Scope.HALL, roles=DESK)
def verify_page():
    return _verify_page(typed=request.args.get("token", "")[:200])


def _verify_page(error: LicenceError | None = None, typed: str = "", status: int = 200):
    hall = scope().hall()
    return render_template("licences/verify.html", error=error, typed=typed, hall=hall,
                           window=session.get("licence_window", "")), (
        error.status if error else status)


def _too_many(_limit):
    return make_response(_verify_page(LicenceError("核验失败次数过多,请稍后再试", 429, "code"),
                                      request.form.get("code", "")[:200]))


@bp.post("/licences/verify")
@staff_view(Scope.HALL, roles=DESK)
@limiter.limit(lambda: current_app.config["LICENCE_VERIFY_LIMIT"], on_breach=_too_many,
               key_func=lambda: f"licence-verify:{current_user.get_id()}",
               deduct_when=lambda r: r.status_code >= 400)
def verify():
    """核验亮证: a forged, expired or used code shows nothing of any licence."""
    typed = request.form.get("code", "")[:200]
    window = request.form.get("window", "").strip()[:20]
    session["licence_window"] = window
    try:
        row, show = showing.verify(current_user, typed, window)
    except LicenceError as err:
        return _verify_page(err, typed)
    hall = scope().hall()
    return render_template("licences/verified.html", row=row, show=show, hall=hall,
                           mark=showing.watermark(show, hall, window), now=utcnow())


# ---- staff ----

@bp.get("/staff/licences")
@staff_view(Scope.HALL)
def staff_list():
    number = request.args.get("number", "")[:60]
    return render_template("licences/staff_list.html", rows=services.staff_list(number),
                           number=number)


@bp.get("/staff/licences/uses")
@staff_view(Scope.HALL)
def staff_uses():
    """用证记录: who looked at, checked or used a licence at this hall, newest first."""
    staff = scope()
    return render_template("licences/staff_uses.html", rows=uses.hall_uses(),
                           hall=None if staff.every_hall else staff.hall(),
                           every_hall=staff.every_hall, window=uses.COLLAPSE)


@bp.get("/staff/licences/<int:licence_id>")
@staff_view(Scope.HALL)
def staff_view_licence(licence_id: int):
    row = services.for_staff(licence_id, current_user)
    return _staff_page(row)


def _staff_page(row, error: LicenceError | None = None, reason: str = ""):
    return render_template("licences/staff_view.html", row=row, error=error, reason=reason,
                           timeline=services.timeline(row), uses=services.uses(row),
                           may_change=scope().may_change(row.hall_id)), (
        error.status if error else 200)


@bp.post("/staff/licences/<int:licence_id>/<any(revoke, replace):action>")
@staff_view(Scope.HALL)
def staff_change(licence_id: int, action: str):
    """注销 or 换发, with a reason."""
    row = services.for_staff(licence_id, current_user)
    reason = request.form.get("reason", "")
    try:
        new = getattr(services, action)(row, current_user, reason)
    except LicenceError as err:
        return _staff_page(row, err, reason[:200])
    target = new.id if action == "replace" else row.id
    return redirect(url_for("licences.staff_view_licence", licence_id=target), 303)


@bp.route("/staff/licences/import", methods=["GET", "POST"])
@staff_view(Scope.HALL, roles=ADMINS)
def staff_import():
    """存量证照导入: a CSV, all or nothing, each bad row named."""
    errors, done = [], None
    if request.method == "POST":
        upload = request.files.get("file")
        text = upload.read(2 * 1024 * 1024 + 1) if upload and upload.filename else b""
        try:
            done = io.import_csv(text, scope().hall(), current_user)
        except io.ImportRefused as err:
            errors = err.errors
    return render_template("licences/import.html", errors=errors, done=done,
                           columns=io.COLUMNS), 400 if errors else 200

