"""Pages for starting an application, the applicant's details, checking and submitting, 补正 and
我的办件 (the materials page is material_pages.py, the clerk's pages staff.py)."""

from flask import (
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from app.applications import bp, decisions, services
from app.applications.cards import card_context
from app.applications.drafts import AppError, answer_values, item_fields
from app.applications.models import Application
from app.applications.services import ApplicantForm
from app.applications.states import (
    LABELS,
    VERDICT_LABELS,
    Status,
)
from app.auth.relatives import RELATIONS
from app.catalog.services import bundle_items, cached_item, merge_materials
from app.core.access import SUPPLEMENT, VIEW, own_view
from app.core.links import grant, granted, on_link
from app.core.readonly import read_only
from app.reading import services as reading


@bp.app_context_processor
def _labels():
    return {"application_labels": LABELS, "verdict_labels": VERDICT_LABELS}


def own_application(app_id: int, action: str | None = None) -> Application:
    """The signed-in owner's application, or one a link opened for `action` (see links.py)."""
    try:
        return services.for_citizen(app_id, current_user, action)
    except AppError:
        if not current_user.is_authenticated:  # maybe the owner, signed out: ask who they are
            back = request.path if request.method == "GET" else url_for(
                "applications.view", app_id=app_id)  # a form's address is no page to return to
            abort(redirect(url_for("auth.login", next=back)))
        abort(404)


def staff_application(app_id: int) -> Application:
    try:
        return services.for_clerk(app_id)
    except AppError:
        abort(404)


# ---- starting ----

@bp.get("/apply/<code>")
@own_view()
@read_only  # outside the sign-in check, whose user query would start the transaction
@login_required
def start(code: str):
    """The item's pre-review: what will be asked, then a draft. The item and its materials from
    the catalog's in-process copy: this page only shows them (the draft's POST reads the item)."""
    item = cached_item(code)
    if item is None or item.retired_at is not None or not item.prereview:
        abort(404)
    return _start_page(item=item)


@bp.get("/apply/bundle/<code>")
@own_view()
@login_required
def start_bundle(code: str):
    """A bundle's pre-review (一件事): one application, one merged material list."""
    bundle = services.bundle_by_code(code)
    if bundle is None or bundle.retired_at is not None:
        abort(404)
    return _start_page(bundle=bundle)


def _start_page(item=None, bundle=None):
    items = [item] if item else bundle_items(bundle)
    draft = services.draft_of(current_user.id, item, bundle)
    return render_template("applications/start.html", item=item, bundle=bundle,
                           materials=merge_materials(items), draft=draft)


@bp.post("/apply/<code>")
@own_view()
@login_required
def create(code: str):
    item = services.item_by_code(code)
    if item is None or item.retired_at is not None or not item.prereview:
        abort(404)
    row = services.start(current_user, item=item)
    return redirect(url_for("applications.applicant", app_id=row.saved_id), 303)


@bp.post("/apply/bundle/<code>")
@own_view()
@login_required
def create_bundle(code: str):
    bundle = services.bundle_by_code(code)
    if bundle is None or bundle.retired_at is not None:
        abort(404)
    row = services.start(current_user, bundle=bundle)
    return redirect(url_for("applications.applicant", app_id=row.saved_id), 303)


# ---- the citizen's steps ----

@bp.route("/applications/<int:app_id>/applicant", methods=["GET", "POST"])
@own_view()
@read_only  # the GET
@login_required
def applicant(app_id: int):
    """Step 1: the applicant's basic facts."""
    row = own_application(app_id)
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
            # app_id, not row.id: the save committed, and row.id would reload the application
            return redirect(url_for(f"applications.{target}", app_id=app_id), 303)
    return render_template("applications/applicant.html", row=row, form=form, fields=fields,
                           relations=RELATIONS, change=request.args.get("change"),
                           offers=reading.offers(row)), (
        400 if form.errors else 200)


@bp.get("/applications/<int:app_id>/check")
@own_view(SUPPLEMENT)
def check(app_id: int):
    """核对信息 before submitting."""
    row = own_application(app_id, SUPPLEMENT)
    if not row.editable:
        return redirect(url_for("applications.view", app_id=row.id), 303)
    return render_template("applications/check.html", row=row,
                           problems=services.missing_before_submit(row))


@bp.post("/applications/<int:app_id>/submit")
@own_view(SUPPLEMENT)
def submit(app_id: int):
    """Submit (or resubmit after 补正); the supplement link allows it without signing in."""
    row = own_application(app_id, SUPPLEMENT)
    try:
        services.submit(row, current_user.id if current_user.is_authenticated else None)
    except AppError as err:
        return render_template("applications/check.html", row=row, error=err.message,
                               problems=services.missing_before_submit(row)), err.status
    return redirect(url_for("applications.view", app_id=row.id, done=1), 303)


@bp.get("/applications/<int:app_id>")
@own_view(VIEW)
def view(app_id: int):
    """The citizen's page of one application: status, what to do now, the timeline."""
    return view_page(own_application(app_id, VIEW))


def view_page(row: Application, status: int = 200, card_errors: dict | None = None):
    timeline = services.steps(row)
    return render_template("applications/view.html", row=row, timeline=timeline,
                           done=request.args.get("done"), fix_reason=decisions.fix_reason,
                           owner=_owner(row), can_supplement=_owner(row) or granted(
                               services.ENTITY, row.id, SUPPLEMENT),
                           card_errors=card_errors or {}, **_missing_cards(row)), status


def _missing_cards(row: Application) -> dict:
    """补交: the owner's page shows a card for each missing material."""
    owner = row.status == Status.ACCEPTED_WITH_MISSING and _owner(row)
    return card_context(row, row.missing if owner else [])


def _owner(row: Application) -> bool:
    """The signed-in citizen it belongs to (not someone holding a link to it)."""
    return current_user.is_authenticated and row.citizen_id == current_user.id


@bp.get("/applications/<int:app_id>/supplement")
@own_view(SUPPLEMENT)
def supplement(app_id: int):
    """补正: exactly which materials were flagged and why; only those can be replaced."""
    row = own_application(app_id, SUPPLEMENT)
    if row.status != Status.SUPPLEMENT_REQUESTED:
        return redirect(url_for("applications.view", app_id=row.id), 303)
    return render_template("applications/supplement.html", row=row, reusable={},
                           fix_reason=decisions.fix_reason,
                           problems=services.missing_before_submit(row),
                           **card_context(row, row.flagged))


@on_link("supplement")
def open_supplement(link):
    """A supplement SMS link opens that one application's 补正 page (see README)."""
    row = services.by_id(link.entity_id)
    if link.entity != services.ENTITY or row is None:
        abort(404)
    grant(link)
    return redirect(url_for("applications.supplement", app_id=row.id), 303)


@bp.post("/applications/<int:app_id>/commitment")
@own_view()
def commitment(app_id: int):
    row = own_application(app_id)
    if request.form.get("agree") != "1":
        return render_template("applications/view.html", row=row, timeline=[],
                               commit_error="请勾选“我已阅读并承诺”", done=None,
                               fix_reason=decisions.fix_reason, owner=True,
                               **_missing_cards(row)), 400
    services.confirm_commitment(row, current_user.id if current_user.is_authenticated else None)
    return redirect(url_for("applications.view", app_id=row.id), 303)


@bp.post("/applications/<int:app_id>/withdraw")
@own_view()
@login_required
def withdraw(app_id: int):
    row = own_application(app_id)
    services.withdraw(row, current_user.id)
    return redirect(url_for("applications.mine"), 303)


@bp.get("/applications")
@own_view()
@login_required
def mine():
    """我的办件: drafts to continue first, then the rest, newest first."""
    rows = services.applications_of(current_user.id)
    drafts = [r for r in rows if r.status == Status.DRAFT]
    return render_template("applications/mine.html", drafts=drafts,
                           others=[r for r in rows if r.status != Status.DRAFT])
