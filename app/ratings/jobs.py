"""Jobs: compressing a bad rating's photo, and the reminders on the rectification clocks."""

from datetime import datetime

from app.core.timeutil import format_local, utcnow
from app.extensions import db
from app.jobs import job
from app.ratings import photos
from app.ratings.models import Rectification
from app.ratings.rectify import staff_to_remind
from app.ratings.rules import refresh_figures
from app.ratings.states import CLOCKED, STEP_LABELS, CaseStatus
from app.sms.services import queue_sms


def _still_due(case_id: int, due: str) -> Rectification | None:
    """The case, if its clock is still the one this job was scheduled for."""
    case = db.session.get(Rectification, case_id, with_for_update=True)
    if case is None or case.status not in CLOCKED or case.due_at is None:
        return None
    return case if case.due_at == datetime.fromisoformat(due) else None


def _step(case: Rectification) -> str:
    status = case.appeal_from if case.status == CaseStatus.UPHELD else case.status
    return STEP_LABELS.get(CaseStatus(status), "处理")


def _notify(case: Rectification, template: str, due: str) -> int:
    """SMS to the responsible staff who have a phone; the others see it in their case list."""
    sent = 0
    for person in staff_to_remind(case):
        if person.phone:
            queue_sms(person.phone, template,
                      {"no": case.number, "step": _step(case),
                       "due": format_local(case.due_at, "%m-%d %H:%M")},
                      key=f"{template}-{case.id}-{due}-{person.id}")
            sent += 1
    return sent


@job("ratings.compress_photo", queue="default")
def compress_photo(rating_id: int) -> str:
    """Make the served copy of a bad rating's photo."""
    return photos.compress_photo(rating_id)


@job("ratings.case_reminder", queue="low")
def case_reminder(case_id: int, due: str) -> str:
    """On the morning of the last day of a step, remind whoever answers for the case."""
    case = _still_due(case_id, due)
    if case is None:
        db.session.rollback()
        return "moved on"
    sent = _notify(case, "rating_case_due", due)
    db.session.commit()
    return f"reminded {sent}"


@job("ratings.case_overdue", queue="default")
def case_overdue(case_id: int, due: str) -> str:
    """When a step's clock runs out, flag the case overdue and tell the responsible staff."""
    case = _still_due(case_id, due)
    if case is None or case.due_at >= utcnow():
        db.session.rollback()
        return "not overdue"
    if case.overdue_at is None:
        case.overdue_at = case.due_at
        refresh_figures(case.rating.invite)
    sent = _notify(case, "rating_case_overdue", due)
    db.session.commit()
    return f"overdue, told {sent}"
