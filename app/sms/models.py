"""Every SMS is a row, created with the event that causes it."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.privacy import mask_phone
from app.core.timeutil import utcnow
from app.extensions import db


class SmsStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary-failure"
    PERMANENT_FAILURE = "permanent-failure"
    TECHNICAL_FAILURE = "technical-failure"


SMS_STATUS_LABELS = {
    SmsStatus.QUEUED: "排队中",
    SmsStatus.SENDING: "发送中",
    SmsStatus.DELIVERED: "已送达",
    SmsStatus.TEMPORARY_FAILURE: "暂时失败",
    SmsStatus.PERMANENT_FAILURE: "发送失败",
    SmsStatus.TECHNICAL_FAILURE: "系统故障",
}


class SmsMessage(db.Model):
    """One text message; the phone is kept for delivery and masked everywhere else."""

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(11))
    template: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    text: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    urgent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=SmsStatus.QUEUED)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    send_after: Mapped[datetime | None]  # quiet hours: not before this (UTC)
    expires_at: Mapped[datetime | None]  # a code's end of life: never sent after it (UTC)
    sending_at: Mapped[datetime | None]  # when a job claimed it for the provider
    claim_job_id: Mapped[int | None]  # the outbox job that claimed it (see sending.send)
    send_job_id: Mapped[int | None]  # its own pending `sms.send` job, done early when batched
    next_retry_at: Mapped[datetime | None]  # the automatic retry due, if one is
    retries: Mapped[int] = mapped_column(default=0)  # automatic retries in this round
    resends: Mapped[int] = mapped_column(default=0)  # rounds started by staff
    error_code: Mapped[str | None] = mapped_column(String(40))
    receipt_at: Mapped[datetime | None]  # the provider's time of the receipt last applied
    # The OutId of the batch call that carried it this round (alone, its idempotency key is the
    # OutId): what a retry asks the provider about before sending again (sending._earlier).
    batch_out_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_sms_message_status_created", "status", "created_at"),
                      Index("ix_sms_message_provider_id", "provider_id"),
                      Index("ix_sms_message_batch_out_id", "batch_out_id"))

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def status_label(self) -> str:
        return SMS_STATUS_LABELS.get(SmsStatus(self.status), self.status)

    @property
    def masked_text(self) -> str:
        """The text with any sign-in code hidden, for staff pages."""
        code = (self.params or {}).get("code")
        return self.text.replace(code, "******") if code else self.text
