"""Telling citizens about their matters: one call per event, from the feature that caused it.

Contract for other features (bookings, applications, ratings):

    from app.progress.notify import notify
    notify("application", application.id, "accepted_with_missing",
           params={"deadline": "12月15日"}, key=audit_row.id)

- Call it inside your service's transaction, after the record is flushed and its status and audit
  row are written; it does not commit. It reads the record through the matter kind registered for
  `kind` (app/progress/registry.py), so the SMS goes to the phone on file.
- `event` is one of EVENTS below; it picks the SMS template and the purpose of the short link
  (/t/<token>, bound to this one record) that the message carries as `{link}`.
- `params` fills the template's other fields (`number` and `item` come from the record).
- `key` makes the message idempotent: one SMS per (kind, id, event, key). Events that can happen
  more than once to the same record (a second supplement request, each reminder) must pass a key
  that differs each time, such as the audit row's id.
- Non-urgent templates wait out quiet hours (queue_sms does it). With VAPID keys configured, people
  who allowed notifications in the installed app also get a Web Push, sent by an outbox job.
"""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app import jobs
from app.core.links import make_link
from app.extensions import db
from app.progress.models import PushSubscription
from app.progress.registry import matter_kind
from app.sms.models import SmsMessage
from app.sms.services import find, queue_sms


@dataclass(frozen=True)
class Event:
    template: str
    purpose: str = "progress"  # what the short link opens


EVENTS = {
    # applications (办件)
    "supplement": Event("progress_supplement", purpose="supplement"),
    "accepted": Event("progress_accepted"),
    "accepted_with_missing": Event("progress_accepted_missing"),  # params: deadline
    "completed": Event("progress_completed"),
    "rejected": Event("progress_rejected"),
    "delivery_sent": Event("progress_delivery_sent"),  # params: courier, tracking
    # bookings (预约)
    "booking_confirmed": Event("booking_confirmed"),  # params: when, hall
    "booking_reminder": Event("booking_reminder"),  # params: time, hall
    "ticket_called_soon": Event("progress_called_soon"),  # params: ticket, ahead, window
}


def notify(kind: str, entity_id: int, event: str, *, params: dict | None = None,
           key: str | int | None = None) -> SmsMessage:
    """Queue the SMS (and push) for one event of one record in the caller's transaction."""
    spec, chosen = matter_kind(kind), EVENTS.get(event)
    if chosen is None:
        raise ValueError(f"unknown progress event {event!r}")
    summary = spec.get(entity_id) if spec else None
    if summary is None:
        raise LookupError(f"{kind} #{entity_id} is not a registered matter")
    values = {"number": summary.number, "item": summary.title[:16],
              "link": make_link(chosen.purpose, kind, entity_id), **(params or {})}
    message = queue_sms(summary.phone, chosen.template, values,
                        key=f"progress:{kind}:{entity_id}:{event}:{key or ''}")
    push_along(message, summary.citizen_id)
    return message


def push_along(message: SmsMessage, user_id: int) -> None:
    """Queue the Web Push twin of an SMS (an outbox job) for a citizen with a subscription;
    once per message: the job row carries the key "progress.push@<message id>" (unique), so a
    second call for the same SMS (its idempotency key matched) writes nothing."""
    if not (push_enabled() and _has_subscription(user_id)):
        return
    if message.status == "permanent_failure":
        return
    # quiet hours hold the push as they hold its SMS
    jobs.enqueue("progress.push", message.id, user_id, run_at=message.send_after,
                 key=f"progress.push@{message.id}")


def push_or_sms(user_id: int, notice: str, data: dict, phone: str, template: str,
                params: dict) -> str:
    """One notice, once, in the caller's transaction: by Web Push where the citizen subscribed
    (an outbox job, which sends the SMS instead should no browser take it), else by SMS.
    `notice` is its idempotency key; `data` the push's title, body and url."""
    fallback = {"phone": phone, "template": template, "params": params,
                "key": f"notice:{notice}"}
    if noticed(notice):
        return "sent already"
    if push_enabled() and _has_subscription(user_id):
        jobs.enqueue("progress.push_notice", user_id, notice, data, fallback,
                     key=f"progress.push_notice@{notice}")
        return "push"
    queue_sms(phone, template, params, key=fallback["key"])
    return "sms"


def noticed(notice: str) -> bool:
    """Whether push_or_sms() has sent (or queued) this notice already, by either channel."""
    return find(f"notice:{notice}") is not None or jobs.keyed(f"progress.push_notice@{notice}")


def push_enabled() -> bool:
    """Web Push is on only with a full set of VAPID settings."""
    cfg = current_app.config
    return bool(cfg.get("VAPID_PUBLIC_KEY") and cfg.get("VAPID_PRIVATE_KEY")
                and cfg.get("VAPID_SUBJECT"))


def _has_subscription(user_id: int) -> bool:
    return db.session.scalar(select(PushSubscription.id).where(
        PushSubscription.user_id == user_id).limit(1)) is not None
