"""Pages for applying with photos, the citizen's applications, and the clerk's review."""

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
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from app.applications import bp, services
from app.applications.drafts import AppError, answer_values, item_fields
from app.applications.models import Application
from app.applications.services import ApplicantForm, Decision
from app.applications.states import (
    DECISIONS,
    FIX_REASONS,
    LABELS,
    REJECT_REASONS,
    VERDICT_LABELS,
    Status,
)
from app.applications.watermark import mark
from app.auth import consent
from app.catalog.models import Bundle, ServiceItem
from app.catalog.services import bundle_items, merge_materials
from app.core.access import PHOTOS, SUPPLEMENT, VIEW, Scope, own_view, staff_view
from app.core.errors import refusal_page
from app.core.ids import parse_id
from app.core.links import grant, granted, on_link
from app.core.models import AuditLog
from app.core.relatives import RELATIONS
from app.core.timeutil import utcnow
from app.extensions import db
from app.htmx import is_partial, render
from app.licences import services as licences
from app.reading import services as reading
from app.uploads.storage import photo_url


@bp.app_context_processor
def _labels():
    return {"application_labels": LABELS, "verdict_labels": VERDICT_LABELS}


@bp.errorhandler(413)
def _too_large(err):
    """A body over MAX_CONTENT_LENGTH (refused even before CSRF): answer beside the material."""
    message = f"照片不能超过 {row_limit() // 1024 // 1024}MB"
    args = request.view_args or {}
    if request.endpoint == "applications.upload":
        row = _mine(args["app_id"], SUPPLEMENT)
        if any(m.id == args["material_id"] for m in row.materials):
            return _card(row, args["material_id"], message, 413)
    return refusal_page(AppError(message, 413))


def _mine(app_id: int, action: str | None = None) -> Application:
    """The signed-in owner's application, or one a link opened for `action` (see links.py)."""
    try:
        return services.for_citizen(app_id, current_user, action)
    except AppError:
        if not current_user.is_authenticated:  # maybe the owner, signed out: ask who they are
            back = request.path if request.method == "GET" else url_for(
                "applications.view", app_id=app_id)  # a form's address is no page to return to
            abort(redirect(url_for("auth.login", next=back)))
        abort(404)


def _staff_row(app_id: int) -> Application:
    try:
        return services.for_clerk(app_id)
    except AppError:
        abort(404)


# ---- starting ----

@bp.get("/apply/<code>")
@own_view()
@login_required
def start(code: str):
    """The item's pre-review: what will be asked, then a draft."""
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if item is None or item.retired_at is not None or not item.prereview:
        abort(404)
    return _start_page(item=item)


@bp.get("/apply/bundle/<code>")
@own_view()
@login_required
def start_bundle(code: str):
    """A bundle's pre-review (一件事): one application, one merged material list."""
    bundle = db.session.scalar(select(Bundle).where(Bundle.code == code))
    if bundle is None or bundle.retired_at is not None:
        abort(404)
    return _start_page(bundle=bundle)


def _start_page(item=None, bundle=None):
    items = [item] if item else bundle_items(bundle)
    draft = db.session.scalar(select(Application).where(
        Application.citizen_id == current_user.id, Application.status == Status.DRAFT,
        (Application.item_id == item.id) if item else (Application.bundle_id == bundle.id)))
    return render_template("applications/start.html", item=item, bundle=bundle,
                           materials=merge_materials(items), draft=draft)


@bp.post("/apply/<code>")
@own_view()
@login_required
def create(code: str):
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    if item is None or item.retired_at is not None or not item.prereview:
        abort(404)
    row = services.start(current_user, item=item)
    return redirect(url_for("applications.applicant", app_id=row.id), 303)


@bp.post("/apply/bundle/<code>")
@own_view()
@login_required
def create_bundle(code: str):
    bundle = db.session.scalar(select(Bundle).where(Bundle.code == code))
    if bundle is None or bundle.retired_at is not None:
        abort(404)
    row = services.start(current_user, bundle=bundle)
    return redirect(url_for("applications.applicant", app_id=row.id), 303)


# ---- the citizen's steps ----

@bp.route("/applications/<int:app_id>/applicant", methods=["GET", "POST"])
@own_view()
@login_required
def applicant(app_id: int):
    """Step 1: the applicant's basic facts."""
    row = _mine(app_id)
    if not row.editable:
        return redirect(url_for("applications.view", app_id=row.id), 303)
    fields = item_fields(row) if row.status == Status.DRAFT else []
    form = ApplicantForm(row.applicant_name or "", row.id_number or "", row.contact_phone or "",
                         row.relative_name or "", row.relative_relation or "",
                         row.relative_phone or "", answers=answer_values(row))
    if request.method == "POST":
        form = services.save_applicant(row, ApplicantForm(
            request.form.get("name", ""), request.form.get("id_number", ""),
            request.form.get("phone", ""), *(request.form.get(key, "") for key in (
                "relative_name", "relative_relation", "relative_phone")),
            answers={f["key"]: request.form.get(f"field-{f['key']}", "") for f in fields}))
        if not form.errors:
            target = "check" if request.args.get("change") else "materials"
            return redirect(url_for(f"applications.{target}", app_id=row.id), 303)
    return render_template("applications/applicant.html", row=row, form=form, fields=fields,
                           relations=RELATIONS, change=request.args.get("change")), (
        400 if form.errors else 200)


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
    row = _mine(app_id)
    if not row.editable:
        return redirect(url_for("applications.view", app_id=row.id), 303)
    if _needs_sensitive_consent(row):
        return render_template("applications/sensitive_consent.html", row=row,
                               version=consent.version("sensitive"))
    if row.status == Status.DRAFT:
        licences.lookup(row)  # 免提交: a valid licence stands in for a photo
    return render_template("applications/materials.html", row=row,
                           reusable=_reusable(row), problems=services.missing_before_submit(row))


def _reusable(row: Application) -> dict:
    if row.status != Status.DRAFT:
        return {}
    found = {m.id: services.reusable(row.citizen_id, m) for m in row.materials}
    return {k: v for k, v in found.items() if v}


def _card(row: Application, material_id: int, error: str | None = None, status: int = 200):
    material = next(m for m in row.materials if m.id == material_id)
    if row.status == Status.ACCEPTED_WITH_MISSING and not is_partial():
        # 补交 without JavaScript: back to the application's page, where the cards are
        if error:
            return _view_page(row, status=status, card_errors={material.id: error})
        return redirect(url_for("applications.view", app_id=row.id) + f"#material-{material.id}",
                        303)
    reusable = services.reusable(row.citizen_id, material) if row.status == Status.DRAFT else None
    return render("applications/materials.html", "applications/_card.html", status=status,
                  row=row, m=material, error=error, reusable={material.id: reusable}
                  if reusable else {}, problems=services.missing_before_submit(row))


@bp.post("/applications/<int:app_id>/consent")
@own_view()
@login_required
def sensitive_consent(app_id: int):
    """同意: record the consent to sensitive personal information for this application."""
    row = _mine(app_id)
    if row.status != Status.DRAFT:
        return redirect(url_for("applications.view", app_id=row.id), 303)
    if not request.form.get("agree"):
        return render_template("applications/sensitive_consent.html", row=row,
                               version=consent.version("sensitive"),
                               error="请勾选同意后再拍照上传"), 400
    consent.record(row.citizen_id, ["sensitive"], consent.application_scope(row.id))
    db.session.commit()
    return redirect(url_for("applications.materials", app_id=row.id), 303)


@bp.post("/applications/<int:app_id>/materials/<int:material_id>/photos")
@own_view(SUPPLEMENT)
def upload(app_id: int, material_id: int):
    """One photo for one material; a refusal comes back beside that material, nothing lost."""
    row = _mine(app_id, SUPPLEMENT)
    if not any(m.id == material_id for m in row.materials):
        abort(404)
    if _needs_sensitive_consent(row):
        return _card(row, material_id, "请先阅读并同意《敏感个人信息处理规则》,再拍照上传", 409)
    try:
        files = [f for f in request.files.getlist("photo") if f and f.filename]
        data = files[0].read(row_limit() + 1) if files else None
        services.add_photo(row, material_id, data, row.citizen_id,
                           phone=reading.phone_check(request.form),
                           replaces=request.form.get("replaces", type=int))
    except RequestEntityTooLarge:
        db.session.rollback()
        return _card(row, material_id, f"照片不能超过 {row_limit() // 1024 // 1024}MB", 413)
    except AppError as err:
        db.session.rollback()
        return _card(row, material_id, err.message, err.status)
    return _card(row, material_id)


def row_limit() -> int:
    return current_app.config["UPLOAD_MAX_BYTES"]


@bp.post("/applications/<int:app_id>/photos/<int:upload_id>/remove")
@own_view(SUPPLEMENT)
def remove(app_id: int, upload_id: int):
    row = _mine(app_id, SUPPLEMENT)
    material = services.remove_photo(row, upload_id)
    return _card(row, material.id)


@bp.post("/applications/<int:app_id>/materials/<int:material_id>/reuse")
@own_view()
@login_required
def reuse(app_id: int, material_id: int):
    """材料复用: use a photo a clerk already accepted in an earlier application."""
    row = _mine(app_id)
    services.reuse(row, material_id, current_user.id)
    return _card(row, material_id)


@bp.post("/applications/<int:app_id>/materials/<int:material_id>/licence")
@own_view()
@login_required
def use_licence(app_id: int, material_id: int):
    """免提交: carry one of the applicant's licences instead of a photo; a licence that does not
    count (expired, revoked, someone else's) is refused beside the material."""
    row = _mine(app_id)
    if not any(m.id == material_id for m in row.materials):
        abort(404)
    try:
        if request.form.get("drop"):
            licences.detach(row, material_id)
        else:
            licences.attach(row, material_id, parse_id(request.form.get("licence_id")),
                            current_user.id)
    except (AppError, licences.LicenceError) as err:
        db.session.rollback()
        return _card(row, material_id, err.message, err.status)
    return _card(row, material_id)


@bp.get("/applications/photos/<int:upload_id>/status")
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
    return render_template("applications/_photo.html", u=photo, row=row, editable=row.editable)


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
    row = _mine(app_id)
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
        url = None if staff_copy else photo_url(services.photo_key(upload_row, kind))
        data = None if url else services.photo_bytes(upload_row, kind)
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


@bp.get("/applications/<int:app_id>/check")
@own_view(SUPPLEMENT)
def check(app_id: int):
    """核对信息 before submitting."""
    row = _mine(app_id, SUPPLEMENT)
    if not row.editable:
        return redirect(url_for("applications.view", app_id=row.id), 303)
    return render_template("applications/check.html", row=row,
                           problems=services.missing_before_submit(row))


@bp.post("/applications/<int:app_id>/submit")
@own_view(SUPPLEMENT)
def submit(app_id: int):
    """Submit (or resubmit after 补正); the supplement link allows it without signing in."""
    row = _mine(app_id, SUPPLEMENT)
    try:
        services.submit(row, current_user.id if current_user.is_authenticated else None)
    except AppError as err:
        db.session.rollback()
        return render_template("applications/check.html", row=row, error=err.message,
                               problems=services.missing_before_submit(row)), err.status
    return redirect(url_for("applications.view", app_id=row.id, done=1), 303)


@bp.get("/applications/<int:app_id>")
@own_view(VIEW)
def view(app_id: int):
    """The citizen's page of one application: status, what to do now, the timeline."""
    return _view_page(_mine(app_id, VIEW))


def _view_page(row: Application, status: int = 200, card_errors: dict | None = None):
    timeline = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == services.ENTITY, AuditLog.entity_id == row.id,
        AuditLog.public_note.is_not(None)).order_by(AuditLog.id.desc())).all()
    return render_template("applications/view.html", row=row, timeline=timeline,
                           done=request.args.get("done"), fix_reason=services.fix_reason,
                           owner=_owner(row), can_supplement=_owner(row) or granted(
                               services.ENTITY, row.id, SUPPLEMENT),
                           card_errors=card_errors or {}), status


def _owner(row: Application) -> bool:
    """The signed-in citizen it belongs to (not someone holding a link to it)."""
    return current_user.is_authenticated and row.citizen_id == current_user.id


@bp.get("/applications/<int:app_id>/supplement")
@own_view(SUPPLEMENT)
def supplement(app_id: int):
    """补正: exactly which materials were flagged and why; only those can be replaced."""
    row = _mine(app_id, SUPPLEMENT)
    if row.status != Status.SUPPLEMENT_REQUESTED:
        return redirect(url_for("applications.view", app_id=row.id), 303)
    return render_template("applications/supplement.html", row=row, reusable={},
                           fix_reason=services.fix_reason,
                           problems=services.missing_before_submit(row))


@on_link("supplement")
def open_supplement(link):
    """A supplement SMS link opens that one application's 补正 page (see README)."""
    row = db.session.get(Application, link.entity_id)
    if link.entity != services.ENTITY or row is None:
        abort(404)
    grant(link)
    return redirect(url_for("applications.supplement", app_id=row.id), 303)


@bp.post("/applications/<int:app_id>/commitment")
@own_view()
def commitment(app_id: int):
    row = _mine(app_id)
    if request.form.get("agree") != "1":
        return render_template("applications/view.html", row=row, timeline=[],
                               commit_error="请勾选“我已阅读并承诺”", done=None,
                               fix_reason=services.fix_reason, owner=True), 400
    services.confirm_commitment(row, current_user.id if current_user.is_authenticated else None)
    return redirect(url_for("applications.view", app_id=row.id), 303)


@bp.post("/applications/<int:app_id>/withdraw")
@own_view()
@login_required
def withdraw(app_id: int):
    row = _mine(app_id)
    services.withdraw(row, current_user.id)
    return redirect(url_for("applications.mine"), 303)


@bp.get("/applications")
@own_view()
@login_required
def mine():
    """我的办件: drafts to continue first, then the rest, newest first."""
    rows = db.session.scalars(select(Application).where(
        Application.citizen_id == current_user.id, Application.status != Status.WITHDRAWN
    ).order_by(Application.updated_at.desc())).all()
    drafts = [r for r in rows if r.status == Status.DRAFT]
    return render_template("applications/mine.html", drafts=drafts,
                           others=[r for r in rows if r.status != Status.DRAFT])


# ---- the clerk ----

@bp.get("/review")
@staff_view(Scope.HALL)
def review_queue():
    """预审队列: the hall's submitted applications, oldest first, with their waiting time."""
    return render("applications/queue.html", "applications/_queue.html",
                  rows=services.queue_for(), now=utcnow())


@bp.post("/review/<int:app_id>/claim")
@staff_view(Scope.HALL)
def claim(app_id: int):
    row = _staff_row(app_id)
    try:
        services.claim(row, current_user)
    except AppError as err:
        err.back_url = url_for("applications.review_queue")
        raise
    return redirect(url_for("applications.review", app_id=row.id), 303)


@bp.post("/review/<int:app_id>/take")
@staff_view(Scope.HALL)
def take_over(app_id: int):
    """接手: take a colleague's claim, naming whose it was, so nobody is overridden unawares."""
    row = _staff_row(app_id)
    seen = parse_id(request.form.get("claimed_by"))
    try:
        services.take_over(row, current_user, seen)
    except AppError as err:
        err.back_url = url_for("applications.review", app_id=row.id)
        raise
    return redirect(url_for("applications.review", app_id=row.id), 303)


@bp.post("/review/<int:app_id>/release")
@staff_view(Scope.HALL)
def release(app_id: int):
    row = _staff_row(app_id)
    services.release(row, current_user)
    return redirect(url_for("applications.review_queue"), 303)


@bp.get("/review/<int:app_id>")
@staff_view(Scope.HALL)
def review(app_id: int):
    """The review page: photos per material, a verdict each, then one decision."""
    row = _staff_row(app_id)
    licences.seen_in_review(row, current_user)  # each staff view of a licence is recorded
    return _review_page(row, Decision())


def _review_page(row: Application, form: Decision, status: int = 200):
    timeline = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == services.ENTITY, AuditLog.entity_id == row.id
    ).order_by(AuditLog.id.desc())).all()
    return render_template("applications/review.html", row=row, form=form, timeline=timeline,
                           fix_reasons=FIX_REASONS, reject_reasons=REJECT_REASONS,
                           decisions=DECISIONS, max_due=services.max_due(row),
                           fix_reason=services.fix_reason), status


@bp.post("/review/<int:app_id>/decide")
@staff_view(Scope.HALL)
def decide(app_id: int):
    row = _staff_row(app_id)
    form = Decision(decision=request.form.get("decision", ""), due=request.form.get("due", ""),
                    reason=request.form.get("reason", ""),
                    reason_text=request.form.get("reason_text", "")[:500])
    for m in row.materials:
        form.verdicts[m.id] = (request.form.get(f"verdict-{m.id}", ""),
                               request.form.get(f"fix-{m.id}", ""),
                               request.form.get(f"text-{m.id}", "")[:200])
    form = services.decide(row, current_user, form)
    if form.errors:
        return _review_page(row, form, 400)
    return redirect(url_for("applications.review", app_id=row.id), 303)


@bp.post("/review/<int:app_id>/supplied")
@staff_view(Scope.HALL)
def supplied(app_id: int):
    row = _staff_row(app_id)
    services.mark_supplied(row, current_user)
    return redirect(url_for("applications.review", app_id=row.id), 303)


@bp.post("/review/<int:app_id>/<any(processing, completed):to>")
@staff_view(Scope.HALL)
def advance(app_id: int, to: str):
    row = _staff_row(app_id)
    services.advance(row, current_user, Status(to))
    return redirect(url_for("applications.review", app_id=row.id), 303)

