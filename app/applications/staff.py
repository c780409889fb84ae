"""The clerk's pre-review pages: the queue, claiming, the review page and its decision."""

from flask import (
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.applications import bp, decisions, services
from app.applications.decisions import Decision
from app.applications.drafts import AppError
from app.applications.models import Application
from app.applications.routes import staff_application
from app.applications.states import (
    DECISIONS,
    FIX_REASONS,
    REJECT_REASONS,
    Status,
)
from app.core.access import Scope, staff_view
from app.core.ids import parse_id
from app.core.timeutil import utcnow
from app.htmx import render
from app.licences import services as licences
from app.reading import services as reading


@bp.get("/review")
@staff_view(Scope.HALL)
def review_queue():
    """预审队列: the hall's submitted applications, oldest first, with their waiting time."""
    return render("applications/queue.html", "applications/_queue.html",
                  rows=decisions.queue_for(), now=utcnow())


@bp.post("/review/<int:app_id>/claim")
@staff_view(Scope.HALL)
def claim(app_id: int):
    row = staff_application(app_id)
    try:
        decisions.claim(row, current_user)
    except AppError as err:
        err.back_url = url_for("applications.review_queue")
        raise
    return redirect(url_for("applications.review", app_id=row.id), 303)


@bp.post("/review/<int:app_id>/take")
@staff_view(Scope.HALL)
def take_over(app_id: int):
    """接手: take a colleague's claim, naming whose it was, so nobody is overridden unawares."""
    row = staff_application(app_id)
    seen = parse_id(request.form.get("claimed_by"))
    try:
        decisions.take_over(row, current_user, seen)
    except AppError as err:
        err.back_url = url_for("applications.review", app_id=row.id)
        raise
    return redirect(url_for("applications.review", app_id=row.id), 303)


@bp.post("/review/<int:app_id>/release")
@staff_view(Scope.HALL)
def release(app_id: int):
    row = staff_application(app_id)
    decisions.release(row, current_user)
    return redirect(url_for("applications.review_queue"), 303)


@bp.get("/review/<int:app_id>")
@staff_view(Scope.HALL)
def review(app_id: int):
    """The review page: photos per material, a verdict each, then one decision."""
    row = staff_application(app_id)
    licences.seen_in_review(row, current_user)  # each staff view of a licence is recorded
    return _review_page(row, Decision())


def _review_page(row: Application, form: Decision, status: int = 200):
    timeline = services.steps(row, public=False)
    return render_template("applications/review.html", row=row, form=form, timeline=timeline,
                           fix_reasons=FIX_REASONS, reject_reasons=REJECT_REASONS,
                           decisions=DECISIONS, max_due=decisions.max_due(row),
                           fix_reason=decisions.fix_reason,
                           readings=reading.page_readings(row, row.materials, history=True)), status


@bp.post("/review/<int:app_id>/decide")
@staff_view(Scope.HALL)
def decide(app_id: int):
    row = staff_application(app_id)
    form = Decision(decision=request.form.get("decision", ""), due=request.form.get("due", ""),
                    reason=request.form.get("reason", ""),
                    reason_text=request.form.get("reason_text", "")[:500])
    for m in row.materials:
        form.verdicts[m.id] = (request.form.get(f"verdict-{m.id}", ""),
                               request.form.get(f"fix-{m.id}", ""),
                               request.form.get(f"text-{m.id}", "")[:200])
    form = decisions.decide(row, current_user, form)
    if form.errors:  # the page shows the carried licences again: a staff view, recorded
        licences.seen_in_review(row, current_user)
        return _review_page(row, form, 400)
    return redirect(url_for("applications.review", app_id=row.id), 303)


@bp.post("/review/<int:app_id>/supplied")
@staff_view(Scope.HALL)
def supplied(app_id: int):
    row = staff_application(app_id)
    decisions.mark_supplied(row, current_user)
    return redirect(url_for("applications.review", app_id=row.id), 303)


@bp.post("/review/<int:app_id>/<any(processing, completed):to>")
@staff_view(Scope.HALL)
def advance(app_id: int, to: str):
    row = staff_application(app_id)
    decisions.advance(row, current_user, Status(to))
    return redirect(url_for("applications.review", app_id=row.id), 303)
