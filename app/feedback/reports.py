"""办不成事 reports: recording one with its clocks, the hall's list, the reply and the resolution,
each audited and told by SMS. Routes call one function here; these own the transaction."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import Role, User
from app.catalog.models import Hall, ServiceItem, item_hall
from app.core.access import scope
from app.core.ids import parse_id
from app.core.links import make_link
from app.core.models import audit
from app.core.refusals import rolls_back
from app.core.states import Step, machine, move
from app.core.timeutil import format_local, utcnow
from app.extensions import db
from app.feedback.models import UnresolvedReport
from app.feedback.rules import FeedbackError, check_text, citizens_row, clocks, find_item
from app.feedback.states import REPORT_ALLOWED, REPORT_ENTITY, REPORT_SMS, ReportStatus
from app.progress.notify import push_along
from app.sms.services import queue_sms


@dataclass
class ReportForm:
    """What the citizen typed; kept to show back when something is wrong."""

    item_code: str = ""
    hall_id: str = ""
    description: str = ""


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


@rolls_back
def create_report(citizen: User, form: ReportForm) -> UnresolvedReport:
    """Record the report, start its clocks, tell the hall's admins and the citizen at once."""
    found: dict = {}
    errors: dict[str, str] = {}
    for name, check in (("item", lambda: find_item(form.item_code)),
                        ("hall", lambda: _hall(form.hall_id)),
                        ("description", lambda: check_text(form.description, "description",
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


def _tell_citizen(step: Step, template: str) -> None:
    report = step.record
    citizen = report.citizen
    if citizen.phone:
        link = make_link("progress", REPORT_ENTITY, report.id)
        message = queue_sms(citizen.phone, template, {"link": link},
                            key=f"feedback-report-{report.id}-{step.to}")
        push_along(message, citizen.id)


REPORTS = machine(
    UnresolvedReport, entity=REPORT_ENTITY, allowed=REPORT_ALLOWED, sms=REPORT_SMS,
    notify=_tell_citizen,
    refused=lambda report, current, to: FeedbackError(
        "这条反映已经处理过了,请刷新页面查看最新状态。", 409))


def hall_choices(item: ServiceItem | None) -> list[Hall]:
    """Where the item is handled; every hall when no item is chosen yet."""
    if item is not None:
        return list(item.halls)
    return list(db.session.scalars(select(Hall).order_by(Hall.id)))


def report_for_citizen(report_id: int, user) -> UnresolvedReport:
    """The report if it is this person's; anyone else is told it does not exist."""
    return citizens_row(UnresolvedReport, REPORT_ENTITY, report_id, user,
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


@rolls_back
def reply_report(report_id: int, actor: User, text: str) -> UnresolvedReport:
    """The first reply: what the hall will do (or has done) about it."""
    report = report_for_staff(report_id, actor, lock=True)
    text = check_text(text, "reply", "答复内容")
    move(report, ReportStatus.REPLIED, actor.id, text, f"{report.hall.short_name}答复:{text}",
         reply=text, replied_at=utcnow(), replied_by_id=actor.id)
    db.session.commit()
    return report


@rolls_back
def resolve_report(report_id: int, actor: User, text: str) -> UnresolvedReport:
    """Close the report with what was done; without a reply before, this is also the reply."""
    report = report_for_staff(report_id, actor, lock=True)
    text = check_text(text, "resolution", "办理结果")
    now = utcnow()
    # Resolved without a reply before: the resolution is also the reply.
    replied = {} if report.replied_at is not None else {
        "reply": text, "replied_at": now, "replied_by_id": actor.id}
    move(report, ReportStatus.RESOLVED, actor.id, text, f"已办结:{text}",
         resolution=text, resolved_at=now, resolved_by_id=actor.id, **replied)
    db.session.commit()
    return report
