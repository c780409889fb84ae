"""Rectification (整改) of a bad rating: the case's clock in working days, contacting the citizen,
the fix, the explanation, verification and appeal. Every status change goes through move()."""

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app import jobs
from app.auth.models import Role, User
from app.catalog.models import ServiceItem
from app.core.access import scope
from app.core.models import AuditLog
from app.core.privacy import redact_text
from app.core.refusals import rolls_back
from app.core.states import Step, machine, move
from app.core.timeutil import local_day, to_utc, utcnow
from app.extensions import db
from app.progress.notify import push_along
from app.ratings.models import Rating, RatingInvite, Rectification
from app.ratings.rules import (
    TEXT_MAX,
    RatingError,
    S,
    absolute_link,
    allowed_moves,
    refresh_figures,
    setting,
    workday_deadline,
)
from app.ratings.states import (
    ALLOWED,
    APPEAL_REASONS,
    CLOCKED,
    CLOSED,
    CONTACT_METHODS,
    LABELS,
    PLANS,
    SMS,
    STAMPS,
)
from app.sms.services import queue_sms


def _step_days(status: str, plan: str | None) -> int | None:
    if status == S.OPEN:
        return setting("RATING_CONTACT_WORKDAYS")
    if status == S.CONTACTED:
        return setting("RATING_FIX_COMPLEX_WORKDAYS" if plan == "complex"
                       else "RATING_FIX_SIMPLE_WORKDAYS")
    if status == S.RECTIFIED:
        return setting("RATING_VERIFY_WORKDAYS")
    return None


def set_clock(case: Rectification, status: str, now: datetime) -> None:
    """Start the clock of the step the case enters, and schedule its reminders."""
    step = case.appeal_from if status == S.UPHELD else status
    days = _step_days(step, case.plan) if status in CLOCKED else None
    case.due_at = workday_deadline(now, days, case.hall_id) if days is not None else None
    if case.due_at is None:
        return

    due = case.due_at.isoformat()
    remind_at = to_utc(local_day(case.due_at), time(setting("RATING_REMIND_HOUR")))
    if remind_at > now:
        jobs.enqueue("ratings.case_reminder", case.id, due, run_at=remind_at)
    jobs.enqueue("ratings.case_overdue", case.id, due, run_at=case.due_at + timedelta(seconds=1))


def _effects(step: Step) -> None:
    """What a case's move changes besides its status: lateness, appeal, figures, its clock."""
    case = step.record
    if case.due_at is not None and case.due_at < step.now and case.overdue_at is None:
        case.overdue_at = case.due_at  # it moved, but late: the figures keep that it was overdue
    if step.to == S.UNDER_APPEAL:
        case.appeal_from = step.current
    if step.to == S.DISMISSED:
        case.rating.excluded = True
    set_clock(case, step.to, step.now)
    refresh_figures(case.rating.invite)


def _tell_citizen(step: Step, template: str) -> None:
    case = step.record
    citizen = case.rating.invite.citizen
    if not citizen or not citizen.phone:
        return
    link = absolute_link("rate", "rating", case.rating_id, 30)
    message = queue_sms(citizen.phone, template, {"link": link},
                        key=f"rating-reply-{case.id}-{step.to}")
    push_along(message, citizen.id)


CASES = machine(
    Rectification, entity="rectification", allowed=ALLOWED, stamps=STAMPS, sms=SMS,
    moves=lambda case: allowed_moves(case.status, case.appeal_from),
    refused=lambda case, current, to: RatingError(
        f"整改记录当前为“{LABELS[current]}”,不能改为“{LABELS[to]}”。请刷新页面查看最新状态。", 409),
    notify=_tell_citizen, apply=_effects)


def case_for_staff(case_id: int, user) -> Rectification:
    """A case of a hall in the staff member's scope; another hall's is refused (403)."""
    case = db.session.get(Rectification, case_id)
    if case is None:
        raise RatingError("没有找到这条整改记录。", 404)
    scope(user).read(case.hall_id)
    return case


def _require_admin(user) -> None:
    if user.role != Role.ADMIN:
        raise RatingError("只有大厅管理员可以做这一步。", 403)


def _text(raw: str | None, field: str, message: str, required: bool = True) -> str | None:
    value = (raw or "").strip()
    if required and not value:
        raise RatingError(message, 400, field)
    if len(value) > TEXT_MAX:
        raise RatingError(f"不能超过 {TEXT_MAX} 字", 400, field)
    return value or None


@rolls_back
def log_contact(case_id: int, user, method: str, plan: str, note: str, reply: str):
    """The responsible staff reached the citizen: how, what was said, and the plan."""
    case = case_for_staff(case_id, user)
    if method not in CONTACT_METHODS:
        raise RatingError("请选择联系方式", 400, "method")
    if plan not in PLANS:
        raise RatingError("请选择整改安排", 400, "plan")
    note = _text(note, "note", "请写下沟通的情况")
    reply = _text(reply, "reply", "请写下给群众看的答复")
    move(case, S.CONTACTED, user.id,
         note=f"{CONTACT_METHODS[method]}联系:{note}", public_note=reply, plan=plan)
    db.session.commit()
    return case


@rolls_back
def log_fix(case_id: int, user, note: str, reply: str):
    """The problem was put right: what was done."""
    case = case_for_staff(case_id, user)
    note = _text(note, "note", "请写下整改的措施")
    reply = _text(reply, "reply", "请写下给群众看的答复")
    move(case, S.RECTIFIED, user.id, note=note, public_note=reply)
    db.session.commit()
    return case


@rolls_back
def explain(case_id: int, user, reply: str):
    """The law gives no basis to change it: the reason, told to the citizen."""
    case = case_for_staff(case_id, user)
    reply = _text(reply, "reply", "请写明不能整改的原因和依据")
    move(case, S.EXPLAINED, user.id, note="依法解释说明", public_note=reply)
    db.session.commit()
    return case


@rolls_back
def verify(case_id: int, user, satisfied: str, note: str):
    """The admin followed up with the citizen after the fix."""
    case = case_for_staff(case_id, user)
    _require_admin(user)
    if satisfied not in ("yes", "no"):
        raise RatingError("请选择群众对整改是否满意", 400, "satisfied")
    note = _text(note, "note", "请写下回访的情况")
    move(case, S.VERIFIED, user.id, note=note, follow_up_satisfied=satisfied == "yes",
         public_note="大厅管理员已回访,整改结束。感谢您的监督。")
    db.session.commit()
    return case


@rolls_back
def appeal(case_id: int, user, reason: str, evidence: str):
    """A clerk says the rating is mistaken or malicious, with evidence; an admin decides."""
    case = case_for_staff(case_id, user)
    if user.role != Role.CLERK:
        raise RatingError("申诉由被评价的窗口工作人员提出。", 403)
    if reason not in APPEAL_REASONS:
        raise RatingError("请选择申诉理由", 400, "appeal_reason")
    evidence = _text(evidence, "evidence", "请写明申诉的依据(如监控、录音、办件记录)")
    move(case, S.UNDER_APPEAL, user.id, note=f"申诉:{APPEAL_REASONS[reason]}",
         appeal_reason=reason, appeal_evidence=evidence, appeal_by_id=user.id)
    db.session.commit()
    return case


@rolls_back
def decide_appeal(case_id: int, user, decision: str, note: str):
    """The admin upholds the rating (the case resumes) or dismisses it (it leaves the figures)."""
    case = case_for_staff(case_id, user)
    _require_admin(user)
    if decision not in ("upheld", "dismissed"):
        raise RatingError("请选择审核结果", 400, "decision")
    note = _text(note, "note", "请写明审核意见")
    public = ("经核实,这条评价不计入统计。如有异议,请拨打大厅咨询电话。"
              if decision == "dismissed" else None)
    move(case, decision, user.id, note=note, public_note=public)
    db.session.commit()
    return case


def staff_to_remind(case: Rectification) -> list[User]:
    """Who answers for a case: the clerk who served and the hall's admins."""
    admins = db.session.scalars(select(User).where(
        User.role == Role.ADMIN, User.hall_id == case.hall_id, User.active.is_(True))).all()
    people = ([case.clerk] if case.clerk else []) + list(admins)
    return list({p.id: p for p in people}.values())


# ---- what the pages read ----

def cases_for(user, shown: str) -> list[Rectification]:
    """The cases of the staff member's hall(s) under one filter of the list, the first due
    first (at most 200)."""
    query = select(Rectification).join(Rating).join(RatingInvite).where(
        scope(user).limit(Rectification.hall_id))
    clocked = [str(s) for s in CLOCKED]
    if shown == "active":
        # an upheld appeal on a case that was already closed has no clock left to run
        query = query.where(Rectification.status.in_(clocked), Rectification.due_at.is_not(None))
    elif shown == "overdue":
        query = query.where(Rectification.status.in_(clocked), Rectification.due_at < utcnow())
    elif shown == "appeal":
        query = query.where(Rectification.status == S.UNDER_APPEAL)
    elif shown == "closed":
        query = query.where(Rectification.status.in_([str(s) for s in CLOSED]) | (
            (Rectification.status == S.UPHELD) & Rectification.due_at.is_(None)))
    return list(db.session.scalars(query.order_by(Rectification.due_at.is_(None),
                                                  Rectification.due_at, Rectification.id.desc())
                                   .limit(200)))


def resolved_cases(hall_id: int) -> list:
    """The hall's latest 20 answered cases for the public page: each case with the rating's
    reason, the item's name and the day served (never who rated)."""
    return list(db.session.execute(
        select(Rectification, Rating.reason, ServiceItem.name, RatingInvite.served_day)
        .join(Rating, Rectification.rating_id == Rating.id)
        .join(RatingInvite, Rating.invite_id == RatingInvite.id)
        .outerjoin(ServiceItem, RatingInvite.item_id == ServiceItem.id)
        .where(Rectification.hall_id == hall_id,
               Rectification.status.in_([S.VERIFIED, S.EXPLAINED]))
        .order_by(Rectification.updated_at.desc()).limit(20)))


def public_answers(case_ids: list[int]) -> dict[int, str]:
    """What was done about each case, as told to the citizen (their own words never appear)."""
    if not case_ids:
        return {}
    rows = db.session.execute(select(AuditLog.entity_id, AuditLog.public_note).where(
        AuditLog.entity == "rectification", AuditLog.entity_id.in_(case_ids),
        AuditLog.to_status.in_([S.RECTIFIED, S.EXPLAINED]))
        .order_by(AuditLog.id)).all()
    return {case_id: redact_text(note) for case_id, note in rows}
