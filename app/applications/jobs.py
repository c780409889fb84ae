"""Photo compression (one job per photo) and the daily housekeeping."""

from app.applications import services
from app.jobs import job


@job("applications.compress_photo", queue="default")
def compress_photo(upload_id: int) -> str:
    """Compress one photo; a second run finds it done and does nothing."""
    return services.compress_photo(upload_id)


@job(services.HOUSEKEEPING, queue="low", daily_at="03:00")
def housekeeping() -> dict:
    """Purge old photos and lapse overdue 容缺; `flask scheduler` writes its row at 03:00."""
    return services.housekeeping()


@job(services.MISSING_REMINDERS, queue="low", daily_at="09:00")
def missing_reminders() -> dict:
    """容缺 reminders: 3 working days before the deadline and on its last day (daily, 09:00)."""
    return services.remind_missing()
