"""用证记录 for staff: every use of a licence at the hall(s) in scope, newest first, with a
clerk's repeated looks at one licence told once (a page reloaded, a review reopened)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.access import scope
from app.extensions import db
from app.licences.models import LicenceUse

VIEWS = frozenset({"staff_view", "review"})  # looking, as against verifying or using
COLLAPSE = timedelta(minutes=10)
SHOWN = 100


@dataclass
class UseRow:
    """One line of the list: a use, or a clerk's looks at one licence within 10 minutes."""

    use: LicenceUse  # the newest
    times: int
    first_at: datetime


def hall_uses() -> list[UseRow]:
    """The newest uses at the hall(s) in scope, collapsed."""
    query = (select(LicenceUse).where(scope().limit(LicenceUse.hall_id))
             .options(joinedload(LicenceUse.licence), joinedload(LicenceUse.actor),
                      joinedload(LicenceUse.hall))
             .order_by(LicenceUse.created_at.desc(), LicenceUse.id.desc())
             .limit(SHOWN * 5))  # room for the collapsed ones
    return collapse(db.session.scalars(query))[:SHOWN]


def collapse(uses) -> list[UseRow]:
    """Uses newest first into rows: a look joins the row of the same clerk and licence when it
    came within 10 minutes before that row's newest look (so a long session starts new rows)."""
    rows: list[UseRow] = []
    latest: dict[tuple, UseRow] = {}
    for use in uses:
        key = (use.actor_id, use.licence_id)
        row = latest.get(key) if use.kind in VIEWS else None
        if row is not None and row.use.created_at - use.created_at <= COLLAPSE:
            row.times, row.first_at = row.times + 1, use.created_at
            continue
        row = UseRow(use, 1, use.created_at)
        rows.append(row)
        if use.kind in VIEWS:
            latest[key] = row
    return rows
