"""Photo compression (one job per photo) and the daily housekeeping."""


from app.applications import deadlines, photos
from app.jobs import job


@job("applications.compress_photo", queue="default")
def compress_photo(upload_id: int) -> str:
    """Compress one photo; a second run finds it done and does nothing."""
    return photos.compress_photo(upload_id)


@job(deadlines.HOUSEKEEPING, queue="low", daily_at="03:00")
def housekeeping() -> dict:
    """Purge old photos and lapse overdue 容缺; `flask scheduler` writes its row at 03:00."""
    return deadlines.housekeeping()


@job(deadlines.MISSING_REMINDERS, queue="low", daily_at="09:00")
def missing_reminders() -> dict:
    """容缺 reminders: 3 working days before the deadline and on its last day (daily, 09:00)."""
    return deadlines.remind_missing()
