"""Delivery receipts: the provider's word that a sent message arrived, or did not."""

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from app.core.states import move
from app.core.timeutil import utcnow
from app.extensions import db
from app.sms.models import SmsMessage, SmsStatus
from app.sms.providers.aliyun import BATCH_OUT_ID_PREFIX


@dataclass
class ReceiptReport:
    applied: int = 0
    ignored: int = 0


def receipt_token_ok(given: str | None) -> bool:
    """Compare the shared secret in constant time; no secret configured means no receipts."""
    expected = current_app.config.get("SMS_RECEIPT_TOKEN")
    return bool(expected and given) and hmac.compare_digest(expected.encode(), given.encode())


def apply_receipts(receipts) -> ReceiptReport:
    """Move sent messages to delivered or failed; duplicates, strangers, stale ones are ignored."""
    report = ReceiptReport()
    for receipt in receipts:
        if _apply_receipt(receipt):
            report.applied += 1
        else:
            report.ignored += 1
    db.session.commit()
    return report


def _apply_receipt(receipt) -> bool:
    if not receipt.provider_id:
        return False
    message = db.session.scalar(select(SmsMessage).where(
        SmsMessage.provider_id == str(receipt.provider_id)).with_for_update())
    message = message or _by_out_id(receipt)
    reported = _naive_utc(receipt.reported_at) or utcnow()
    if message is None or message.status != SmsStatus.SENDING:
        return False  # unknown, an earlier round's provider id, or already settled
    if message.receipt_at and reported < message.receipt_at:
        return False
    message.receipt_at, message.error_code = reported, receipt.error_code
    if receipt.delivered:
        message.delivered_at, message.reason = reported, None
        move(message, SmsStatus.DELIVERED, note="delivery receipt")
    else:
        message.reason = f"运营商未能送达(错误码 {receipt.error_code or '未知'})"
        move(message, SmsStatus.PERMANENT_FAILURE, note=message.reason)
    return True


def _by_out_id(receipt) -> SmsMessage | None:
    """A message a retry found already sent has no provider id yet: its receipt names it by the
    call's OutId (our key alone; the batch's OutId and the number in a batch)."""
    if not receipt.out_id:
        return None
    query = select(SmsMessage).where(SmsMessage.provider_id.is_(None),
                                     SmsMessage.status == SmsStatus.SENDING,
                                     SmsMessage.sent_at.is_not(None))
    if receipt.out_id.startswith(BATCH_OUT_ID_PREFIX):
        query = query.where(SmsMessage.batch_out_id == receipt.out_id,
                            SmsMessage.phone == receipt.phone)
    else:
        query = query.where(SmsMessage.idempotency_key == receipt.out_id)
    message = db.session.scalar(query.with_for_update())
    if message is not None:
        message.provider_id = str(receipt.provider_id)
    return message


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
