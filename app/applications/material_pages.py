"""The materials page of an application: one card per material, photos taken and sent one by one,
a licence instead of a photo (免提交), values read from the photos, and the photos themselves."""

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app.applications import bp, photos, services
from app.applications.cards import card_context
from app.applications.drafts import AppError
from app.applications.models import Application
from app.applications.routes import own_application, view_page
from app.applications.states import (
    Status,
)
from app.applications.watermark import mark
from app.auth import consent
from app.core.access import PHOTOS, SUPPLEMENT, Scope, own_view
from app.core.errors import refusal_page
from app.core.ids import parse_id
from app.core.readonly import read_only
from app.htmx import is_partial, render
from app.licences import services as licences
from app.reading import services as reading
from app.uploads.storage import photo_url


def _needs_sensitive_consent(row: Application) -> bool:
    """A draft's photos wait for the separate consent to sensitive personal information
    (个人信息保护法 art. 28–29), in the version in force; asked once per application."""
    return row.status == Status.DRAFT and not consent.sensitive_agreed(row.citizen_id, row.id)


@bp.get("/applications/<int:app_id>/materials")
@own_view()
@login_required
def materials(app_id: int):
    """Step 2: one card per material, each photo uploaded as soon as it is chosen (after the
    consent to sensitive personal information, asked before the first photo)."""
    row = own_application(app_id)
    if not row.editable:
        return redirect(url_for("applications.view", app_id=row.id), 303)
    if _needs_sensitive_consent(row):
        return render_template("applications/sensitive_consent.html", row=row,
                               version=consent.version("sensitive"))
    if row.status == Status.DRAFT:
        licences.lookup(row)  # 免提交: a valid licence stands in for a photo
    return render_template("applications/materials.html", row=row,
                           reusable=_reusable(row), problems=services.missing_before_submit(row),
                           **card_context(row, row.materials))


def _reusable(row: Application) -> dict:
    if row.status != Status.DRAFT:
        return {}
    found = {m.id: photos.reusable(row.citizen_id, m) for m in row.materials}
    return {k: v for k, v in found.items() if v}


def _card(row: Application, material_id: int, error: str | None = None, status: int = 200):
    material = next(m for m in row.materials if m.id == material_id)
    if row.status == Status.ACCEPTED_WITH_MISSING and not is_partial():
        # 补交 without JavaScript: back to the application's page, where the cards are
        if error:
            return view_page(row, status=status, card_errors={material.id: error})
        return redirect(url_for("applications.view", app_id=row.id) + f"#material-{material.id}",
                        303)
    # The reuse offer shows only on a card with no photo yet (_material.html): an upload's own
    # card, the commonest answer here, needs no query for it.
    reusable = (photos.reusable(row.citizen_id, material)
                if row.status == Status.DRAFT and not material.current else None)
    shown = [material] if is_partial() else row.materials
    return render("applications/materials.html", "applications/_card.html", status=status,
                  row=row, m=material, error=error, reusable={material.id: reusable}
                  if reusable else {}, problems=services.missing_before_submit(row),
                  **card_context(row, shown))


@bp.post("/applications/<int:app_id>/consent")
@own_view()
@login_required
def sensitive_consent(app_id: int):
    """同意: record the consent to sensitive personal information for this application."""
    row = own_application(app_id)
    if row.status != Status.DRAFT:
        return redirect(url_for("applications.view", app_id=row.id), 303)
    if not request.form.get("agree"):
        return render_template("applications/sensitive_consent.html", row=row,
                               version=consent.version("sensitive"),
                               error="请勾选同意后再拍照上传"), 400
    services.agree_sensitive(row)  # commits: app_id, not row.id, which would reload the row
    return redirect(url_for("applications.materials", app_id=app_id), 303)


@bp.post("/applications/<int:app_id>/materials/<int:material_id>/photos")
@own_view(SUPPLEMENT)
def upload(app_id: int, material_id: int):
    """One photo for one material; a refusal comes back beside that material, nothing lost."""
    row = own_application(app_id, SUPPLEMENT)
    if not any(m.id == material_id for m in row.materials):
        abort(404)
    if _needs_sensitive_consent(row):
        return _card(row, material_id, "请先阅读并同意《敏感个人信息处理规则》,再拍照上传", 409)
    try:
        files = [f for f in request.files.getlist("photo") if f and f.filename]
        data = files[0].read(row_limit() + 1) if files else None
        # The card is drawn inside the upload's transaction, from the rows already read
        return photos.add_photo(row, material_id, data, row.citizen_id,
                                phone=reading.phone_check(request.form),
                                replaces=request.form.get("replaces", type=int),
                                draw=lambda upload: _card(row, material_id))
    except RequestEntityTooLarge:
        return _card(row, material_id, f"照片不能超过 {row_limit() // 1024 // 1024}MB", 413)
    except AppError as err:
        return _card(row, material_id, err.message, err.status)


def row_limit() -> int:
    return current_app.config["UPLOAD_MAX_BYTES"]


@bp.post("/applications/<int:app_id>/photos/<int:upload_id>/remove")
@own_view(SUPPLEMENT)
def remove(app_id: int, upload_id: int):
    row = own_application(app_id, SUPPLEMENT)
    material = photos.remove_photo(row, upload_id)
    return _card(row, material.id)


@bp.post("/applications/<int:app_id>/materials/<int:material_id>/reuse")
@own_view()
@login_required
def reuse(app_id: int, material_id: int):
    """材料复用: use a photo a clerk already accepted in an earlier application."""
    row = own_application(app_id)
    photos.reuse(row, material_id, current_user.id)
    return _card(row, material_id)


@bp.post("/applications/<int:app_id>/materials/<int:material_id>/licence")
@own_view()
@login_required
def use_licence(app_id: int, material_id: int):
    """免提交: carry one of the applicant's licences instead of a photo; a licence that does not
    count (expired, revoked, someone else's) is refused beside the material."""
    row = own_application(app_id)
    if not any(m.id == material_id for m in row.materials):
        abort(404)
    try:
        if request.form.get("drop"):
            licences.detach(row, material_id)
        else:
            licences.attach(row, material_id, parse_id(request.form.get("licence_id")),
                            current_user.id)
    except (AppError, licences.LicenceError) as err:
        return _card(row, material_id, err.message, err.status)
    return _card(row, material_id)


@bp.get("/applications/photos/<int:upload_id>/status")
@read_only  # outside the staff check, whose user query would start the transaction
@own_view(PHOTOS, staff=Scope.HALL)
def photo_status(upload_id: int):
    """The self-replacing status of one photo; polls while the worker compresses it."""
    try:
        photo = services.photo_for(upload_id, current_user)
    except AppError:
        abort(404)
    row = photo.material.application
    if _read_just_now(photo, row):
        # The reading is in: its findings may concern the whole card (an offer to fill, a
        # material whose other photo now agrees), so the card replaces itself.
        response = _card(row, photo.material_id)
        response.headers["HX-Retarget"] = f"#material-{photo.material_id}"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return render_template("applications/_photo.html", u=photo, row=row, editable=row.editable,
                           readings=reading.page_readings(row, [photo.material], history=True))


def _read_just_now(photo, row) -> bool:
    """A citizen's poll that finds the reading finished (polls run only while it is pending)."""
    check = photo.check
    return (is_partial() and row.editable and not getattr(current_user, "is_staff", False)
            and photo.status == "ready" and check is not None and check.kind is not None
            and check.status != "pending")


@bp.post("/applications/<int:app_id>/fill")
@bp.post("/applications/<int:app_id>/materials/<int:material_id>/fill")
@own_view()
def fill_from_photo(app_id: int, material_id: int | None = None):
    """从照片中识别: fill the fields the applicant left empty from what the photos hold (only
    ever on this tap); the card again, or back to the page the offer was on."""
    row = own_application(app_id)
    material = None
    if material_id is not None:
        material = next((m for m in row.materials if m.id == material_id), None) or abort(404)
    filled = reading.fill(row, material)
    if material is not None and is_partial():
        return _card(row, material.id)
    if filled:
        flash("已从照片中填入:" + "、".join(o.noun for o in filled), "success")
    target = "applicant" if request.args.get("back") == "applicant" else "materials"
    return redirect(url_for(f"applications.{target}", app_id=row.id), 303)


@bp.get("/applications/photos/<int:upload_id>/<any(image, thumb):kind>")
@own_view(PHOTOS, staff=Scope.HALL)
def photo(upload_id: int, kind: str):
    """A compressed copy, only to its owner or that hall's staff; never the original."""
    staff_copy = kind == "image" and getattr(current_user, "is_staff", False)
    try:
        upload_row = services.photo_for(upload_id, current_user)
        # S3_SERVE=redirect: after the same checks, a presigned URL that soon expires; the
        # staff's watermarked copy is always made here.
        url = None if staff_copy else photo_url(photos.photo_key(upload_row, kind))
        data = None if url else photos.photo_bytes(upload_row, kind)
    except AppError as err:
        abort(503 if err.status == 503 else 404)
    if url:
        response = redirect(url, 302)
        # The browser may reuse this answer only while the URL it points to still works.
        seconds = current_app.config["S3_URL_SECONDS"] // 2
        response.headers["Cache-Control"] = f"private, max-age={seconds}" if seconds else "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    if staff_copy:
        data = mark(data)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.errorhandler(413)
def _too_large(err):
    """A body over MAX_CONTENT_LENGTH: Werkzeug refuses it before the view (CSRF reads the form
    first), so no route can catch it. On an upload it answers beside the material, as the route's
    own refusals do; anywhere else through the one refusal page (app/core/errors.py)."""
    message = f"照片不能超过 {row_limit() // 1024 // 1024}MB"
    args = request.view_args or {}
    if request.endpoint == "applications.upload":
        row = own_application(args["app_id"], SUPPLEMENT)
        if any(m.id == args["material_id"] for m in row.materials):
            return _card(row, args["material_id"], message, 413)
    return refusal_page(AppError(message, 413))
