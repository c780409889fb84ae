"""What the 工作台 flags of 办不成事 and 我要问 for a member of staff."""

from app.auth.models import User
from app.core.timeutil import utcnow
from app.feedback.questions import questions_for_staff
from app.feedback.reports import reports_for_hall


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
