"""Photo compression (one job per photo) and the daily housekeeping that re-schedules itself."""

from app.applications import services
from app.jobs import job


@job("applications.compress_photo", queue="default")
def compress_photo(upload_id: int) -> str:
    """Compress one photo; a second run finds it done and does nothing."""
    return services.compress_photo(upload_id)


@job(services.HOUSEKEEPING, queue="low")
def housekeeping() -> dict:
    """Purge old photos and lapse overdue 容缺; books the next day's run before finishing."""
    return services.housekeeping()
