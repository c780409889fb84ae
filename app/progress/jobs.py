"""Web Push for progress notifications: one push per SMS per subscribed browser."""

import json
import logging
import re

from flask import current_app
from sqlalchemy import delete, select

from app.extensions import db
from app.jobs import job
from app.progress.models import PushSent, PushSubscription
from app.progress.services import send_lookup_code
from app.sms.models import SmsMessage
from app.sms.services import queue_sms

log = logging.getLogger(__name__)
SIGN = re.compile(r"^【[^】]*】")
LINK = re.compile(r"[::]?\s*https?://\S+")  # wherever it stands: some texts go on after it


def payload(message: SmsMessage) -> str:
    """The notification: the SMS text without its signature and link, and the link to open."""
    body = " ".join(LINK.sub(" ", SIGN.sub("", message.text)).split())
    return json.dumps({"title": "掌上办", "body": body,
                       "url": (message.params or {}).get("link", "/")}, ensure_ascii=False)


@job("progress.lookup_code", queue="high")
def lookup_code(number: str) -> str:
    """Send the code of a lookup by number (一号查询) to the phone on file, if the number exists."""
    return send_lookup_code(number)


@job("progress.push", queue="default")
def push(message_id: int, user_id: int) -> str:
    """Push one SMS's news to each browser the citizen subscribed; a re-run skips sent ones."""
    message = db.session.get(SmsMessage, message_id)
    if message is None or not current_app.config.get("VAPID_PRIVATE_KEY"):
        return "nothing to push"
    pushed, failures = _push_to(user_id, payload(message), PushSent.message_id == message_id,
                                {"message_id": message_id})
    if failures:
        raise RuntimeError(f"{failures} web push(es) failed; the retry sends only those")
    return "pushed" if pushed else "no subscription"


@job("progress.push_notice", queue="high")
def push_notice(user_id: int, notice: str, data: dict, fallback: dict | None = None) -> str:
    """A push-only notice (前面还有 N 人): to each subscribed browser once; when none takes it
    (no subscription left, or the push service failed) the SMS in `fallback` goes instead, at
    once: a near-your-turn message is no use after a retry interval."""
    sent = set(db.session.scalars(select(PushSent.subscription_id).where(
        PushSent.notice == notice)))
    if sent:
        return "pushed"  # an earlier run reached a browser
    pushed, failures = (0, 0)
    if current_app.config.get("VAPID_PRIVATE_KEY"):
        pushed, failures = _push_to(user_id, json.dumps(data, ensure_ascii=False),
                                    PushSent.notice == notice, {"notice": notice})
    if pushed:
        return "pushed"
    if fallback:
        queue_sms(fallback["phone"], fallback["template"], fallback["params"],
                  key=fallback["key"])
        db.session.commit()
        return "sms instead"
    return "nothing sent"


def _push_to(user_id: int, data: str, done_where, record: dict) -> tuple[int, int]:
    """Send `data` to each of the citizen's subscriptions not yet done; (reached, failed)."""
    from pywebpush import WebPushException, webpush

    cfg = current_app.config
    subscriptions = db.session.scalars(select(PushSubscription).where(
        PushSubscription.user_id == user_id)).all()
    done = set(db.session.scalars(select(PushSent.subscription_id).where(done_where)))
    reached, failures = len(done), 0
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
        except OSError as exc:  # the push service unreachable
            log.warning("web push to subscription %s failed: %s", sub.id, exc)
            failures += 1
            continue
        db.session.add(PushSent(subscription_id=sub.id, **record))
        db.session.commit()
        reached += 1
    return reached, failures
