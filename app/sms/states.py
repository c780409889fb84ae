"""The message state machine: which moves are allowed, and the groups the pages use."""

from app.sms.models import SmsStatus

# GOV.UK Notify's statuses. "sending" means claimed by a job and, once sent_at is set, accepted
# by the provider and waiting for its delivery receipt.
ALLOWED = {
    SmsStatus.QUEUED: {SmsStatus.SENDING, SmsStatus.PERMANENT_FAILURE},
    SmsStatus.SENDING: {SmsStatus.DELIVERED, SmsStatus.TEMPORARY_FAILURE,
                        SmsStatus.PERMANENT_FAILURE, SmsStatus.TECHNICAL_FAILURE},
    SmsStatus.TEMPORARY_FAILURE: {SmsStatus.SENDING, SmsStatus.QUEUED,
                                  SmsStatus.PERMANENT_FAILURE},
    SmsStatus.TECHNICAL_FAILURE: {SmsStatus.SENDING, SmsStatus.QUEUED,
                                  SmsStatus.PERMANENT_FAILURE},
    SmsStatus.PERMANENT_FAILURE: {SmsStatus.QUEUED},  # only a resend by staff
    SmsStatus.DELIVERED: set(),
}

FAILED = (SmsStatus.TEMPORARY_FAILURE, SmsStatus.PERMANENT_FAILURE, SmsStatus.TECHNICAL_FAILURE)

# Badge tones for the status words on staff pages.
TONES = {
    SmsStatus.QUEUED: "neutral",
    SmsStatus.SENDING: "info",
    SmsStatus.DELIVERED: "success",
    SmsStatus.TEMPORARY_FAILURE: "warning",
    SmsStatus.PERMANENT_FAILURE: "error",
    SmsStatus.TECHNICAL_FAILURE: "error",
}
