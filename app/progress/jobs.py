"""Web Push for progress notifications: one push per SMS per subscribed browser."""

import json
import logging
import re

from flask import current_app
from sqlalchemy import delete, select

from app.extensions import db
from app.jobs import job
from app.progress.models import PushSent, PushSubscription
from app.sms.models import SmsMessage

log = logging.getLogger(__name__)
SIGN = re.compile(r"^【[^】]*】")
LINK = re.compile(r"[::]?\s*https?://\S+$")


def payload(message: SmsMessage) -> str:
    """The notification: the SMS text without its signature and link, and the link to open."""
    body = LINK.sub("", SIGN.sub("", message.text)).strip()
    return json.dumps({"title": "掌上办", "body": body,
                       "url": (message.params or {}).get("link", "/")}, ensure_ascii=False)


@job("progress.lookup_code", queue="high")
def lookup_code(number: str) -> str:
    """Send the code of a lookup by number (一号查询) to the phone on file, if the number exists."""
    from app.progress.services import send_lookup_code

    return send_lookup_code(number)


@job("progress.push", queue="default")
def push(message_id: int, user_id: int) -> str:
    """Push one SMS's news to each browser the citizen subscribed; a re-run skips sent ones."""
    from pywebpush import WebPushException, webpush

    message = db.session.get(SmsMessage, message_id)
    cfg = current_app.config
    if message is None or not cfg.get("VAPID_PRIVATE_KEY"):
        return "nothing to push"
    subscriptions = db.session.scalars(select(PushSubscription).where(
        PushSubscription.user_id == user_id)).all()
    done = set(db.session.scalars(select(PushSent.subscription_id).where(
        PushSent.message_id == message_id)))
    data, failures = payload(message), 0
    for sub in subscriptions:
        if sub.id in done:
            continue
        try:
            webpush({"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
                    data=data, vapid_private_key=cfg["VAPID_PRIVATE_KEY"],
                    vapid_claims={"sub": cfg["VAPID_SUBJECT"]}, ttl=86400, timeout=10)
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in (404, 410):  # the browser unsubscribed: forget it
                db.session.execute(delete(PushSubscription).where(PushSubscription.id == sub.id))
                db.session.commit()
                continue
            log.warning("web push to subscription %s failed: %s", sub.id, status or exc)
            failures += 1
            continue
        db.session.add(PushSent(message_id=message_id, subscription_id=sub.id))
        db.session.commit()
    if failures:
        raise RuntimeError(f"{failures} web push(es) failed; the retry sends only those")
    return "pushed"
