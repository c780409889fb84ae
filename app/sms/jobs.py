"""SMS jobs."""

from app.jobs import job
from app.sms import sending


@job("sms.send", queue="high", batch=100)
def send_sms(message_id: int) -> str:
    """Send one SMS (with a batch of others due alongside it); safe to run twice."""
    return sending.send(message_id)
