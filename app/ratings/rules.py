"""What the ratings modules share: the deadline settings and working-day deadlines, the refusal,
short links that work from jobs, and the figures copied onto an invite."""

from datetime import datetime

from flask import current_app

from app.catalog.workdays import add_working_days
from app.core.links import make_link
from app.core.refusals import Refusal
from app.core.timeutil import end_of_local_day, local_day
from app.ratings.models import RatingInvite
from app.ratings.states import ALLOWED, GOOD_FROM, CaseStatus

S = CaseStatus


TEXT_MAX = 500


def allowed_moves(status: str, appeal_from: str | None) -> set[CaseStatus]:
    """The statuses a case may move to next: an upheld appeal resumes where it was."""
    if status == S.UPHELD:
        return ALLOWED[S(appeal_from or S.OPEN)] - {S.UNDER_APPEAL}
    return ALLOWED[S(status)]


def is_good(score: int) -> bool:
    return score >= GOOD_FROM


def setting(name: str) -> int:
    """A deadline setting (app/config.py holds the national defaults)."""
    return int(current_app.config[name])


class RatingError(Refusal):
    """A rule the person ran into (a Refusal), with a status and the field it concerns."""

    default_status = 400
    titles = {409: "已经处理过", 410: "评价期已结束"}
    rule = "ratings"


def workday_deadline(start: datetime, days: int, hall_id: int | None) -> datetime:
    """The end of the local day `days` working days after `start`."""
    return end_of_local_day(add_working_days(local_day(start), days, hall_id))


def absolute_link(purpose: str, entity: str, entity_id: int, days: int,
                   expires_at: datetime | None = None) -> str:
    """A short link; outside a request (a job) it is built against SERVER_NAME."""
    return make_link(purpose, entity, entity_id, days=days, expires_at=expires_at)


def refresh_figures(row: RatingInvite) -> None:
    """Copy the rating's and the case's outcome onto the invite, which the figures scan."""
    rating = row.rating
    case = rating.case if rating else None
    row.score = rating.score if rating else None
    row.self_initiated = rating.self_initiated if rating else None
    row.excluded = bool(rating and rating.excluded)
    row.case_status = case.status if case else None
    row.case_due_at = case.due_at if case else None
    row.case_overdue_at = case.overdue_at if case else None
    row.case_replied = bool(case and case.replied_at)
    row.case_verified = bool(case and case.verified_at)
    row.case_outcome_good = None
    if case and case.outcome_score is not None:
        row.case_outcome_good = is_good(case.outcome_score)
    elif case and case.follow_up_satisfied is not None:
        row.case_outcome_good = case.follow_up_satisfied
