"""The reading job: one photo, chained after its compression (app/applications/services.py)."""

from app.jobs import job
from app.reading import services


@job(services.READ_JOB, queue="default")
def read_photo(upload_id: int) -> str:
    """Read a compressed photo's document fields; a second run finds it done and does nothing."""
    return services.read_photo(upload_id)
