"""What every SMS provider takes and answers: messages, send outcomes, delivery receipts."""

from dataclasses import dataclass
from datetime import datetime

SENT, TEMPORARY, PERMANENT, TECHNICAL = (
    "sent", "temporary_failure", "permanent_failure", "technical_failure")


@dataclass
class SmsItem:
    phone: str
    template: str  # our template key, e.g. "login_code"
    params: dict[str, str]
    text: str  # the rendered text, shown by the console provider
    out_id: str  # our idempotency key, at most 64 characters


@dataclass
class SendResult:
    outcome: str  # sent | temporary_failure | permanent_failure | technical_failure
    provider_id: str | None = None
    reason: str | None = None
    delivered: bool = False  # found by earlier_send() with the operator's receipt already in


@dataclass
class Receipt:
    provider_id: str
    out_id: str | None
    delivered: bool
    error_code: str | None
    reported_at: datetime  # aware, in Beijing time as Aliyun reports it
    phone: str | None = None  # without +86


def mask_phone(phone: str) -> str:
    """The first 3 and last 4 digits, the rest starred."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
