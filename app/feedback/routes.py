"""Pages: 办不成事 and 我要问 for citizens; the hall's reports and the departments' questions."""

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.catalog.sections import add_guide_section
from app.catalog.services import search_items
from app.core.access import (
    ADMINS,
    VIEW,
    Scope,
    departments_of,
    own_view,
    public_view,
    staff_view,
)
from app.core.ids import parse_id
from app.core.timeutil import utcnow
from app.feedback import bp, questions, reports, rules
from app.feedback.reports import ReportForm
from app.feedback.rules import FeedbackError

REPORT_FILTERS = {"open": "待处理", "resolved": "已办结", "all": "全部"}
QUESTION_FILTERS = {"open": "待答复", "answered": "已答复"}


@bp.record_once
def _guide_faqs(state) -> None:
    """常见问题 under every guide (templates/feedback/_guide_section.html)."""
    add_guide_section(state.app, "feedback/_guide_section.html",
                      lambda item: questions.faqs_for(item.id))


# ---- 办不成事: the citizen -----------------------------------------------------------------------

def _report_page(form: ReportForm, error: FeedbackError | None = None, status: int = 200):
    item = rules.item_by_code(form.item_code)
    items = None if item else rules.items_on_offer()
    return render_template("feedback/report.html", form=form, item=item, items=items,
                           halls=reports.hall_choices(item), error=error), status


@bp.get("/feedback/report")
@own_view()
@login_required
def report_start():
    """办不成事反映: which item, which hall, what happened."""
    return _report_page(ReportForm(item_code=request.args.get("item", "")))


@bp.post("/feedback/report")
@own_view()
@login_required
def report_submit():
    form = ReportForm(item_code=request.form.get("item", "").strip(),
                      hall_id=request.form.get("hall", "").strip(),
                      description=request.form.get("description", ""))
    if current_user.is_staff:
        raise FeedbackError("办不成事反映请用群众本人的手机号登录后提交。", 403)
    try:
        report = reports.create_report(current_user, form)
    except FeedbackError as err:
        if "item" in err.errors and rules.item_by_code(form.item_code) is None:
            form.item_code = ""
        return _report_page(form, err, err.status)
    return redirect(url_for("feedback.report_view", report_id=report.id), 303)


@bp.get("/feedback/reports/<int:report_id>")
@own_view(VIEW)
def report_view(report_id: int):
    """The receipt and everything the hall has said, for the person who reported it."""
    report = reports.report_for_citizen(report_id, current_user)
    return render_template("feedback/report_view.html", report=report, now=utcnow())


# ---- 我要问: the citizen -------------------------------------------------------------------------

def _ask_page(item, text="", error=None, status=200):
    return render_template("feedback/ask.html", item=item, text=text, error=error), status


@bp.get("/feedback/ask")
@public_view
def ask_choose():
    """我要问 from the home page: find the service the question is about, then ask."""
    q = request.args.get("q", "").strip()[:50]
    items = search_items(q, limit=30)
    return render_template("feedback/ask_choose.html", q=q, items=items)


@bp.get("/feedback/ask/<code>")
@own_view()
@login_required
def ask(code: str):
    """我要问: a question about one item, answered by its department."""
    item = rules.item_by_code(code) or abort(404)
    return _ask_page(item)


@bp.post("/feedback/ask/<code>")
@own_view()
@login_required
def ask_submit(code: str):
    item = rules.item_by_code(code) or abort(404)
    text = request.form.get("text", "")
    if current_user.is_staff:
        raise FeedbackError("提问请用群众本人的手机号登录后提交。", 403)
    try:
        question = questions.ask(current_user, code, text)
    except FeedbackError as err:
        return _ask_page(item, text, err, err.status)
    return redirect(url_for("feedback.question_view", question_id=question.id), 303)


@bp.get("/feedback/questions/<int:question_id>")
@own_view(VIEW)
def question_view(question_id: int):
    question = questions.question_for_citizen(question_id, current_user)
    return render_template("feedback/question_view.html", question=question)


# ---- the hall: 办不成事 --------------------------------------------------------------------------

@bp.get("/feedback/staff/reports")
@staff_view(Scope.HALL)
def staff_reports():
    """The hall's 办不成事 reports; overdue ones first and flagged."""
    shown = request.args.get("show", "open")
    shown = shown if shown in REPORT_FILTERS else "open"
    return render_template("feedback/staff_reports.html", shown=shown, filters=REPORT_FILTERS,
                           reports=reports.reports_for_hall(current_user, shown), now=utcnow())


def _staff_report_page(report, error=None, status=200, typed=None):
    return render_template("feedback/staff_report.html", report=report, error=error,
                           typed=typed or {}, now=utcnow()), status


@bp.get("/feedback/staff/reports/<int:report_id>")
@staff_view(Scope.HALL)
def staff_report(report_id: int):
    report = reports.report_for_staff(report_id, current_user)
    return _staff_report_page(report)


@bp.post("/feedback/staff/reports/<int:report_id>/<any(reply, resolve):step>")
@staff_view(Scope.HALL)
def staff_report_step(report_id: int, step: str):
    """答复 (the first reply) or 办结 (the resolution)."""
    field = "reply" if step == "reply" else "resolution"
    text = request.form.get(field, "")
    action = reports.reply_report if step == "reply" else reports.resolve_report
    try:
        action(report_id, current_user, text)
    except FeedbackError as err:
        if err.field is None:
            raise
        return _staff_report_page(reports.report_for_staff(report_id, current_user), err,
                                  err.status, {field: text})
    return redirect(url_for("feedback.staff_report", report_id=report_id), 303)


# ---- the departments: 我要问 --------------------------------------------------------------------

@bp.get("/feedback/staff/questions")
@staff_view(Scope.DEPARTMENT)
def staff_questions():
    """Questions about the items of my departments; unanswered ones oldest first."""
    shown = request.args.get("show", "open")
    shown = shown if shown in QUESTION_FILTERS else "open"
    return render_template("feedback/staff_questions.html", shown=shown,
                           filters=QUESTION_FILTERS, departments=departments_of(
                               current_user),
                           questions=questions.questions_for_staff(current_user, shown))


def _staff_question_page(question, error=None, status=200, typed=None):
    draft_q, draft_a = questions.faq_draft(question) if question.answer else ("", "")
    return render_template("feedback/staff_question.html", question=question, error=error,
                           typed=typed or {}, draft_q=draft_q, draft_a=draft_a), status


@bp.get("/feedback/staff/questions/<int:question_id>")
@staff_view(Scope.DEPARTMENT)
def staff_question(question_id: int):
    question = questions.question_for_staff(question_id, current_user)
    return _staff_question_page(question)


@bp.post("/feedback/staff/questions/<int:question_id>/<any(answer, publish, unpublish):step>")
@staff_view(Scope.DEPARTMENT)
def staff_question_step(question_id: int, step: str):
    """答复, 公开为常见问题 (anonymised), or 取消公开."""
    typed = {k: request.form.get(k, "") for k in ("answer", "faq_question", "faq_answer")}
    try:
        if step == "answer":
            questions.answer(question_id, current_user, typed["answer"])
        elif step == "publish":
            questions.publish(question_id, current_user, typed["faq_question"],
                             typed["faq_answer"])
        else:
            questions.unpublish(question_id, current_user)
    except FeedbackError as err:
        if err.field is None:
            raise
        return _staff_question_page(questions.question_for_staff(question_id, current_user),
                                    err, err.status, typed)
    return redirect(url_for("feedback.staff_question", question_id=question_id), 303)


# ---- the admin: who answers for which department -------------------------------------------------

@bp.route("/feedback/admin/departments", methods=["GET", "POST"])
@staff_view(Scope.HALL, roles=ADMINS)
def admin_departments():
    """Which departments each member of the hall's staff answers questions for."""
    if request.method == "POST":
        person = rules.hall_member(current_user, parse_id(request.form.get("user_id")))
        rules.set_departments(person, request.form.getlist("department"), current_user)
        return redirect(url_for("feedback.admin_departments", saved=person.id), 303)
    people = rules.hall_staff(current_user)
    return render_template("feedback/admin_departments.html", people=people,
                           departments=rules.all_departments(),
                           of={p.id: departments_of(p) for p in people},
                           saved=parse_id(request.args.get("saved")))
