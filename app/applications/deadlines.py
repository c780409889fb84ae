"""Daily work: photos past their retention are removed, 容缺 deadlines are reminded (3 working days
before, and on the day) and lapse when missed."""

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.applications.drafts import (
    cfg,
)
from app.applications.models import Application
from app.applications.photos import delete_files
from app.applications.services import ENTITY, link_for, push_note
from app.applications.states import (
    Status,
)
from app.catalog import workdays
from app.core.models import audit
from app.core.states import move
from app.core.timeutil import to_local, utcnow
from app.extensions import db
from app.reading import services as reading
from app.sms.services import find, queue_sms

log = logging.getLogger(__name__)



HOUSEKEEPING = "applications.housekeeping"


def housekeeping(now: datetime | None = None) -> dict:
    """Purge photos of long-closed applications and lapse overdue 容缺 (daily, app/jobs.py)."""
    now = now or utcnow()
    return {"purged": purge_photos(now), "lapsed": lapse_overdue(now)}


def purge_photos(now: datetime) -> int:
    """Delete the files of applications closed longer ago than the retention; keep the audit."""
    cutoff = now - timedelta(days=cfg("PHOTO_RETENTION_DAYS"))
    rows = db.session.scalars(select(Application).where(
        Application.closed_at < cutoff, Application.photos_purged_at.is_(None))).all()
    for row in rows:
        keys = []
        for m in row.materials:
            for upload in m.uploads:
                keys += [upload.original_key, upload.image_key, upload.thumb_key]
                upload.original_key = upload.image_key = upload.thumb_key = None
                upload.status = "purged"
                reading.forget(upload)  # what was read from it goes with it
        row.photos_purged_at = now
        audit(ENTITY, row.id, row.status, from_status=row.status,
              note=f"照片已按保存期限({cfg('PHOTO_RETENTION_DAYS')}天)删除")
        db.session.commit()  # the rows first: a crash after this leaves only orphan files
        delete_files(keys)
    return len(rows)


MISSING_REMINDERS = "applications.missing_reminders"


REMIND_WORKDAYS = 3  # the first reminder: this many working days before the deadline


def remind_missing(now: datetime | None = None) -> dict:
    """Remind each 容缺受理 citizen 3 working days before the deadline and on its last day.

    Safe to run any number of times a day: each reminder is one SMS per (application, deadline,
    which), by its idempotency key. A run missed on the day itself is made up the next working
    day before the deadline; an application accepted with less time than that gets no "soon"
    reminder (its acceptance SMS told the date) but still the last-day one. Quiet hours are
    kept by queue_sms.
    """
    today = to_local(now or utcnow()).date()
    rows = db.session.scalars(select(Application).where(
        Application.status == Status.ACCEPTED_WITH_MISSING,
        Application.missing_due >= today).order_by(Application.id)).all()
    sent = {"soon": 0, "last_day": 0}
    for row in rows:
        which = _reminder_due(row, today)
        if which and _remind(row, which, today):
            sent[which] += 1
    db.session.commit()
    return sent


def _reminder_due(row: Application, today: date) -> str | None:
    """Which reminder is due today for this application, if any."""
    if row.missing_due == today:
        return "last_day"
    left = workdays.working_days_between(today, row.missing_due, row.hall_id)
    if not 1 <= left <= REMIND_WORKDAYS:
        return None
    accepted = to_local(row.decided_at).date() if row.decided_at else today
    given = workdays.working_days_between(accepted, row.missing_due, row.hall_id)
    return "soon" if given > REMIND_WORKDAYS else None


def _remind(row: Application, which: str, today: date) -> bool:
    """Queue one reminder (and its copy to the family member); False if it went already."""
    key = f"application-missing-{which}:{row.id}:{row.missing_due.isoformat()}"
    if find(key) is not None:
        return False
    params = {"ref": row.number, "link": link_for("progress", row.id),
              "due": f"{row.missing_due.month}月{row.missing_due.day}日",
              "left": str(workdays.working_days_between(today, row.missing_due, row.hall_id))}
    template = "app_missing_soon" if which == "soon" else "app_missing_last_day"
    message = queue_sms(row.citizen.phone, template, params, key=key)
    push_note(message, row.citizen_id)
    if row.relative_phone and row.relative_phone != row.citizen.phone:
        queue_sms(row.relative_phone, template, params, key=f"{key}-relative")
    audit(ENTITY, row.id, row.status, from_status=row.status,
          note=f"容缺提醒已发送({'期限前' if which == 'soon' else '最后一天'})")
    return True


def lapse_overdue(now: datetime) -> int:
    """容缺受理 whose deadline has passed without the materials becomes 容缺逾期."""
    today = to_local(now).date()
    rows = db.session.scalars(select(Application).where(
        Application.status == Status.ACCEPTED_WITH_MISSING,
        Application.missing_due < today)).all()
    for row in rows:
        move(row, Status.LAPSED, note=f"期限{row.missing_due}已过")
        db.session.commit()
    return len(rows)
