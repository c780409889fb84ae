"""办不成事 reports and 我要问 questions: every rule, each change audited and told by SMS.

Routes parse input and call one function here; these own the transaction (they commit).
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import Role, StaffDepartment, User
from app.catalog.cache import BUMP
from app.catalog.models import Hall, ServiceItem, item_hall
from app.core.access import VIEW, scope
from app.core.ids import parse_id
from app.core.links import allows, make_link
from app.core.models import audit
from app.core.privacy import redact_text
from app.core.refusals import Refusal
from app.core.timeutil import end_of_local_day, format_local, to_local, utcnow
from app.core.workdays import add_working_days, working_days_from
from app.extensions import db
from app.feedback.models import Question, UnresolvedReport
from app.feedback.states import (
    QUESTION_ENTITY,
    REPORT_ALLOWED,
    REPORT_ENTITY,
    QuestionStatus,
    ReportStatus,
)
from app.progress.notify import push_along
from app.sms.services import queue_sms

TEXT_MIN, TEXT_MAX = 5, 1000


class FeedbackError(Refusal):
    """A rule the person ran into (a Refusal), and every field's message for the form."""

    titles = {409: "已经处理过", 410: "已停止办理"}
    rule = "feedback"

    def __init__(self, message: str, status: int = 400, field: str | None = None,
                 errors: dict[str, str] | None = None):
        super().__init__(message, status, field)
        # every field's message, so a form shows them all at once
        self.errors = errors if errors is not None else ({field: message} if field else {})


# ---- clocks -------------------------------------------------------------------------------------

def deadline(received_at: datetime, workdays: int, hall_id: int | None) -> datetime:
    """The end of the working day `workdays` after the one it came in (0: that same one).

    A report made on a holiday or weekend starts its clock on the next working day.
    """
    day = to_local(received_at).date()
    if workdays <= 0:
        return end_of_local_day(working_days_from(day, 1, hall_id)[0])
    return end_of_local_day(add_working_days(day, workdays, hall_id))


def clocks(received_at: datetime, hall_id: int) -> tuple[datetime, datetime]:
    """When the first reply and the resolution are due for a report received then."""
    cfg = current_app.config
    return (deadline(received_at, cfg.get("FEEDBACK_REPLY_WORKDAYS", 0), hall_id),
            deadline(received_at, cfg.get("FEEDBACK_RESOLVE_WORKDAYS", 5), hall_id))


# ---- who may do what ----------------------------------------------------------------------------

def set_departments(user: User, departments: list[str], actor: User) -> None:
    """Replace the departments a member of staff answers for (an admin of their hall does it)."""
    if not user.is_staff:
        raise FeedbackError("只能设置本大厅工作人员的部门。", 403)
    scope(actor).change(user.hall_id)
    known = set(db.session.scalars(select(ServiceItem.department).distinct()))
    wanted = {d for d in departments if d in known}
    for row in db.session.scalars(select(StaffDepartment).where(
            StaffDepartment.user_id == user.id)):
        if row.department not in wanted:
            db.session.delete(row)
        wanted.discard(row.department)
    for name in sorted(wanted):
        db.session.add(StaffDepartment(user_id=user.id, department=name))
    audit("staff_department", user.id, "set", actor_id=actor.id,
          note="、".join(sorted(set(departments) & known)) or "(无)")
    db.session.commit()


def all_departments() -> list[str]:
    return list(db.session.scalars(select(ServiceItem.department).distinct()
                                   .order_by(ServiceItem.department)))


# ---- 办不成事 reports ---------------------------------------------------------------------------

@dataclass
class ReportForm:
    """What the citizen typed; kept to show back when something is wrong."""

    item_code: str = ""
    hall_id: str = ""
    description: str = ""


def _check_text(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise FeedbackError(f"请填写{what}", field=field)
    if len(value) < TEXT_MIN:
        raise FeedbackError(f"{what}太短了,请多写几句,至少 {TEXT_MIN} 个字", field=field)
    if len(value) > TEXT_MAX:
        raise FeedbackError(f"{what}不能超过 {TEXT_MAX} 个字,现在是 {len(value)} 个字",
                            field=field)
    return value


def _item(code: str, field: str = "item") -> ServiceItem:
    if not (code or "").strip():
        raise FeedbackError("请选择要办的事项", field=field)
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == code.strip()))
    if item is None:
        raise FeedbackError("没有找到这个事项,请从列表中选择", field=field)
    return item


def _hall(hall_id: str) -> Hall:
    if not str(hall_id).strip():
        raise FeedbackError("请选择在哪个大厅办理", field="hall")
    hall = db.session.get(Hall, parse_id(hall_id) or 0)
    if hall is None:
        raise FeedbackError("没有找到这个大厅,请从列表中选择", field="hall")
    return hall


def offered_at(item: ServiceItem, hall_id: int) -> bool:
    return db.session.scalar(select(item_hall.c.hall_id).where(
        item_hall.c.item_id == item.id, item_hall.c.hall_id == hall_id)) is not None


def create_report(citizen: User, form: ReportForm) -> UnresolvedReport:
    """Record the report, start its clocks, tell the hall's admins and the citizen at once."""
    found: dict = {}
    errors: dict[str, str] = {}
    for name, check in (("item", lambda: _item(form.item_code)),
                        ("hall", lambda: _hall(form.hall_id)),
                        ("description", lambda: _check_text(form.description, "description",
                                                            "遇到的情况"))):
        try:
            found[name] = check()
        except FeedbackError as err:
            errors[err.field] = err.message
    if errors:
        first = next(iter(errors))
        raise FeedbackError(errors[first], field=first, errors=errors)
    item, hall, description = found["item"], found["hall"], found["description"]
    if not offered_at(item, hall.id):
        names = "、".join(h.short_name for h in item.halls) or "暂无大厅"
        raise FeedbackError(f"{hall.short_name}不办理“{item.name}”,不能反映到这个大厅。"
                            f"这个事项的办理地点是:{names}。", status=422, field="hall")
    now = utcnow()
    reply_due, resolve_due = clocks(now, hall.id)
    report = UnresolvedReport(citizen_id=citizen.id, item_id=item.id, hall_id=hall.id,
                              description=description, reply_due_at=reply_due,
                              resolve_due_at=resolve_due, created_at=now)
    db.session.add(report)
    db.session.flush()
    audit(REPORT_ENTITY, report.id, ReportStatus.RECEIVED, actor_id=citizen.id,
          public_note=f"已收到您的办不成事反映,{hall.short_name}将于"
                      f"{format_local(reply_due, '%m月%d日')}前答复,"
                      f"{format_local(resolve_due, '%m月%d日')}前办结。")
    _tell_admins(report)
    # No SMS to the citizen: they just sent it and the page they land on says when we answer.
    db.session.commit()
    return report


def hall_admins(hall_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.role == Role.ADMIN, User.hall_id == hall_id, User.active.is_(True))))


def _tell_admins(report: UnresolvedReport) -> int:
    """An SMS to each admin of the hall with a phone; every admin also sees it on the dashboard."""
    sent = 0
    for admin in hall_admins(report.hall_id):
        if admin.phone:
            queue_sms(admin.phone, "feedback_report_new",
                      {"number": report.number, "item": report.item.name[:16]},
                      key=f"feedback-report-new-{report.id}-{admin.id}")
            sent += 1
    return sent


def _tell_citizen(report: UnresolvedReport, template: str, params: dict, step: str) -> None:
    citizen = report.citizen
    if citizen.phone:
        link = make_link("progress", REPORT_ENTITY, report.id)
        message = queue_sms(citizen.phone, template, {**params, "link": link},
                            key=f"feedback-report-{report.id}-{step}")
        push_along(message, citizen.id)


def _citizens(model, entity: str, row_id: int, user, missing: str):
    """The row if it is this person's (or a link or lookup opened it to view); else a 404."""
    row = db.session.get(model, row_id)
    owner = row is not None and user.is_authenticated and row.citizen_id == user.id
    if row is None or not (owner or allows(entity, row_id, VIEW)):
        raise FeedbackError(missing, 404)
    return row


def report_for_citizen(report_id: int, user) -> UnresolvedReport:
    """The report if it is this person's; anyone else is told it does not exist."""
    return _citizens(UnresolvedReport, REPORT_ENTITY, report_id, user,
                     "没有找到这条反映。只能查看本人提交的反映,请确认登录的手机号。")


def report_for_staff(report_id: int, user: User, lock: bool = False) -> UnresolvedReport:
    """The report if it was made at a hall in this person's scope (app/core/access.py)."""
    report = db.session.get(UnresolvedReport, report_id, with_for_update=lock)
    if report is None:
        raise FeedbackError("没有找到这条反映。", 404)
    scope(user).read(report.hall_id)
    return report


def reports_for_hall(user: User, show: str = "open") -> list[UnresolvedReport]:
    """The hall's reports: open ones with the most urgent clock first."""
    query = select(UnresolvedReport).options(selectinload(UnresolvedReport.citizen)).where(
        scope(user).limit(UnresolvedReport.hall_id))
    if show == "open":
        query = query.where(UnresolvedReport.status != ReportStatus.RESOLVED)
    elif show == "resolved":
        query = query.where(UnresolvedReport.status == ReportStatus.RESOLVED)
    rows = list(db.session.scalars(query.order_by(UnresolvedReport.created_at.desc())
                                   .limit(200)))
    now = utcnow()
    return sorted(rows, key=lambda r: (not r.overdue(now), r.status == ReportStatus.RESOLVED,
                                       r.reply_due_at if r.replied_at is None
                                       else r.resolve_due_at))


def overdue_reports(user: User) -> list[UnresolvedReport]:
    now = utcnow()
    return [r for r in reports_for_hall(user, "open") if r.overdue(now)]


def _move(report: UnresolvedReport, to: ReportStatus, actor: User, note: str,
          public_note: str) -> None:
    if to not in REPORT_ALLOWED[ReportStatus(report.status)]:
        raise FeedbackError("这条反映已经处理过了,请刷新页面查看最新状态。", 409)
    audit(REPORT_ENTITY, report.id, to, actor_id=actor.id, from_status=report.status, note=note,
          public_note=public_note)
    report.status = to


def reply_report(report_id: int, actor: User, text: str) -> UnresolvedReport:
    """The first reply: what the hall will do (or has done) about it."""
    report = report_for_staff(report_id, actor, lock=True)
    text = _check_text(text, "reply", "答复内容")
    _move(report, ReportStatus.REPLIED, actor, text, f"{report.hall.short_name}答复:{text}")
    report.reply, report.replied_at, report.replied_by_id = text, utcnow(), actor.id
    _tell_citizen(report, "feedback_report_replied", {}, "replied")
    db.session.commit()
    return report


def resolve_report(report_id: int, actor: User, text: str) -> UnresolvedReport:
    """Close the report with what was done; without a reply before, this is also the reply."""
    report = report_for_staff(report_id, actor, lock=True)
    text = _check_text(text, "resolution", "办理结果")
    _move(report, ReportStatus.RESOLVED, actor, text, f"已办结:{text}")
    now = utcnow()
    if report.replied_at is None:
        report.reply, report.replied_at, report.replied_by_id = text, now, actor.id
    report.resolution, report.resolved_at, report.resolved_by_id = text, now, actor.id
    _tell_citizen(report, "feedback_report_resolved", {}, "resolved")
    db.session.commit()
    return report


# ---- 我要问 questions ---------------------------------------------------------------------------

def ask(citizen: User, item_code: str, text: str) -> Question:
    """Record a question for the item's department."""
    item = _item(item_code)
    if item.retired_at is not None:
        raise FeedbackError("该事项已停止办理,不能再提问。如有疑问请拨打咨询电话。", 410)
    text = _check_text(text, "text", "问题")
    question = Question(citizen_id=citizen.id, item_id=item.id, department=item.department,
                        text=text)
    db.session.add(question)
    db.session.flush()
    audit(QUESTION_ENTITY, question.id, QuestionStatus.OPEN, actor_id=citizen.id,
          public_note=f"已收到您的提问,将由{item.department}答复,答复后短信通知您。")
    db.session.commit()
    return question


def question_for_citizen(question_id: int, user) -> Question:
    """The question if it is this person's; anyone else is told it does not exist."""
    return _citizens(Question, QUESTION_ENTITY, question_id, user,
                     "没有找到这个提问。只能查看本人提出的问题,请确认登录的手机号。")


def question_for_staff(question_id: int, user: User, lock: bool = False) -> Question:
    """The question if this person answers for its department (Scope.DEPARTMENT)."""
    question = db.session.get(Question, question_id, with_for_update=lock)
    if question is None:
        raise FeedbackError("没有找到这个提问。", 404)
    scope(user).department(question.department)
    return question


def questions_for_staff(user: User, show: str = "open") -> list[Question]:
    mine = scope(user).departments
    if not mine:
        return []
    query = select(Question).options(selectinload(Question.citizen)).where(
        Question.department.in_(mine))
    if show == "open":
        query = query.where(Question.status == QuestionStatus.OPEN).order_by(Question.created_at)
    else:
        query = query.where(Question.status == QuestionStatus.ANSWERED).order_by(
            Question.answered_at.desc())
    return list(db.session.scalars(query.limit(200)))


def answer(question_id: int, actor: User, text: str) -> Question:
    """Answer a question (or correct the answer) and tell the citizen by SMS the first time."""
    question = question_for_staff(question_id, actor, lock=True)
    text = _check_text(text, "answer", "答复内容")
    first = question.status == QuestionStatus.OPEN
    audit(QUESTION_ENTITY, question.id, QuestionStatus.ANSWERED, actor_id=actor.id,
          from_status=question.status, note=text,
          public_note=f"{question.department}答复:{text}" if first else "答复内容已更新。")
    question.status, question.answer = QuestionStatus.ANSWERED, text
    question.answered_at, question.answered_by_id = utcnow(), actor.id
    if first and question.citizen.phone:
        message = queue_sms(question.citizen.phone, "feedback_question_answered",
                            {"link": make_link("progress", QUESTION_ENTITY, question.id)},
                            key=f"feedback-question-{question.id}-answered")
        push_along(message, question.citizen_id)
    db.session.commit()
    return question


def faq_draft(question: Question) -> tuple[str, str]:
    """The anonymised texts offered for publishing: no names, phones or ID numbers."""
    names = [*question.private_names, question.answered_by.name if question.answered_by
             else ""]
    return (question.faq_question or redact_text(question.text, names, public=True),
            question.faq_answer or redact_text(question.answer or "", names, public=True))


def publish(question_id: int, actor: User, faq_question: str, faq_answer: str) -> Question:
    """Show the answered question under the guide, anonymised again whatever was typed."""
    question = question_for_staff(question_id, actor, lock=True)
    if question.status != QuestionStatus.ANSWERED:
        raise FeedbackError("请先答复这个问题,再公开为常见问题。", 409)
    names = [*question.private_names, actor.name or ""]
    q_text = redact_text(_check_text(faq_question, "faq_question", "公开的问题"), names,
                         public=True)
    a_text = redact_text(_check_text(faq_answer, "faq_answer", "公开的答复"), names,
                         public=True)
    question.faq_question, question.faq_answer = q_text, a_text
    question.published_at, question.published_by_id = utcnow(), actor.id
    audit(QUESTION_ENTITY, question.id, "published", actor_id=actor.id, note=q_text)
    _guide_changed()
    db.session.commit()
    return question


def unpublish(question_id: int, actor: User) -> Question:
    question = question_for_staff(question_id, actor, lock=True)
    if question.published_at is not None:
        question.published_at = None
        audit(QUESTION_ENTITY, question.id, "unpublished", actor_id=actor.id)
        _guide_changed()
    db.session.commit()
    return question


def _guide_changed() -> None:
    """The FAQ is part of the cached guide body: move the catalog revision with this commit."""
    db.session.execute(BUMP)
    db.session.info["catalog_changed"] = True


def faqs_for(item_id: int) -> list[Question]:
    """The published questions of an item, newest first."""
    return list(db.session.scalars(select(Question).options(selectinload(Question.citizen)).where(
        Question.item_id == item_id, Question.published_at.is_not(None))
        .order_by(Question.published_at.desc()).limit(20)))


def staff_alerts(user: User) -> dict:
    """What the 工作台 flags: the hall's overdue reports, my departments' open questions."""
    alerts = {"overdue": [], "open_reports": 0, "open_questions": 0}
    if not user.is_staff:
        return alerts
    open_reports = reports_for_hall(user, "open")
    now = utcnow()
    alerts["overdue"] = [r for r in open_reports if r.overdue(now)]
    alerts["open_reports"] = len(open_reports)
    alerts["open_questions"] = len(questions_for_staff(user, "open"))
    return alerts


def hall_choices(item: ServiceItem | None) -> list[Hall]:
    """Where the item is handled; every hall when no item is chosen yet."""
    if item is not None:
        return list(item.halls)
    return list(db.session.scalars(select(Hall).order_by(Hall.id)))
