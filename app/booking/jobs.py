"""Booking jobs: the day-before reminder and the no-show mark at the end of the slot."""

from app.booking import services
from app.jobs import job


@job("booking.remind", queue="default")
def remind(booking_id: int) -> str:
    """Queue the reminder SMS unless the booking was cancelled or has passed."""
    return services.remind(booking_id)


@job("booking.no_show", queue="low")
def no_show(booking_id: int) -> str:
    """Mark a booking nobody checked in for as a no-show."""
    return services.mark_no_show(booking_id)
