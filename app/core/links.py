"""Short signed links for SMS: /t/<token>, bound to one record and one purpose, expiring.

A token is 7 random characters plus a 5-character HMAC, so a forged or truncated one is refused
before the database is asked; the row says what it opens and until when.

A link grants exactly what its purpose names (PURPOSES below, and the README's table): opening
it lets this browser reach that one record for the actions of its purpose, and a view accepts a
grant only for the actions it declares (`own_view(VIEW)` in app/core/access.py). The record's
owner, signed in, needs no link. A view-only grant never allows an unsafe method.
"""

import hashlib
import hmac
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request, session, url_for
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.access import PHOTOS, RATE, SUPPLEMENT, VIEW, declaration
from app.core.timeutil import utcnow
from app.extensions import db

ALPHABET = string.ascii_letters + string.digits
ID_LEN, MAC_LEN = 7, 5
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Purpose:
    """What a link of one purpose is for, and what it lets a view do without signing in."""

    label: str  # the words people see
    actions: frozenset  # app/core/access.py: VIEW, PHOTOS, SUPPLEMENT, RATE
    sign_in: bool = False  # it only leads the person served to sign in; it grants nothing


PURPOSES = {
    # the status, timeline and receipt of one record; also a lookup by number + SMS code
    "progress": Purpose("查看进度", frozenset({VIEW})),
    # an application sent back: its flagged materials, their photos, resubmitting it
    "supplement": Purpose("补正材料", frozenset({VIEW, PHOTOS, SUPPLEMENT})),
    # a rating invitation: that one rating, once, until the rating window closes (the link
    # expires with it). The answer to a bad rating, also sent as "rate", grants nothing: the
    # person served signs in to read it (app/ratings/routes.py).
    "rate": Purpose("评价服务", frozenset({RATE})),
    # 亮证: a licence shown for 5 minutes, once, to a clerk who signs in (app/licences)
    "licence": Purpose("亮证核验", frozenset(), sign_in=True),
}
_HANDLERS: dict[str, Callable] = {}


class ShortLink(db.Model):
    """What a short token opens."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(12), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


def _mac(body: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    return "".join(ALPHABET[(number >> (6 * i)) % 62] for i in range(MAC_LEN))


def sign(body: str) -> str:
    """The MAC a token of this module carries after its random part (亮证 tokens use it too)."""
    return _mac(body)


def make_link(purpose: str, entity: str, entity_id: int, days: int | None = None,
              expires_at: datetime | None = None) -> str:
    """Create a link in the current transaction and return its absolute URL; it lives `days`
    (LINK_TTL_DAYS by default) or until `expires_at`."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    body = "".join(secrets.choice(ALPHABET) for _ in range(ID_LEN))
    token = body + _mac(body)
    days = days or current_app.config["LINK_TTL_DAYS"]
    db.session.add(ShortLink(token=token, purpose=purpose, entity=entity, entity_id=entity_id,
                             expires_at=expires_at or utcnow() + timedelta(days=days)))
    return external_url("pages.short_link", token=token)


def external_url(endpoint: str, **values) -> str:
    """An absolute URL, for an SMS: in a request, on the request's host (or SERVER_NAME when set);
    in a job (an app context), on SERVER_NAME, as Flask builds it. A job on a laptop without
    SERVER_NAME names localhost."""
    if has_request_context() or current_app.config["SERVER_NAME"]:
        return url_for(endpoint, _external=True, **values)
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config[
        "APPLICATION_ROOT"], url_scheme=current_app.config["PREFERRED_URL_SCHEME"])
    return adapter.build(endpoint, values, force_external=True)


def resolve(token: str) -> tuple[ShortLink | None, str | None]:
    """The link for a token, or None with the reason it cannot be used."""
    if (len(token) != ID_LEN + MAC_LEN or not token.isascii()
            or not hmac.compare_digest(_mac(token[:ID_LEN]), token[ID_LEN:])):
        return None, "invalid"
    link = db.session.scalar(select(ShortLink).where(ShortLink.token == token))
    if link is None:
        return None, "invalid"
    if link.expires_at < utcnow():
        return None, "expired"
    return link, None


def on_link(purpose: str):
    """Register the view that opens links of one purpose; it gets the ShortLink."""

    def decorate(fn: Callable) -> Callable:
        _HANDLERS[purpose] = fn
        return fn

    return decorate


def handler(purpose: str) -> Callable | None:
    return _HANDLERS.get(purpose)


def grant(link: ShortLink) -> None:
    """Let this browser open the link's one record for its one purpose until it expires."""
    grant_record(link.entity, link.entity_id, link.purpose, link.expires_at)


def grant_record(entity: str, entity_id: int, purpose: str, until: datetime) -> None:
    """Let this browser open one record for one purpose until then (a link, or an SMS lookup)."""
    grants = [g for g in session.get("link_grants", []) if g[3] > utcnow().timestamp()]
    grants.append([entity, entity_id, purpose, until.timestamp()])
    session["link_grants"] = grants[-20:]


def allows(entity: str, entity_id: int, action: str) -> bool:
    """Whether a link (or lookup) opened in this browser lets this view do `action` to this one
    record: the view must accept the action, and a grant of the record must have a purpose that
    allows it. Viewing is never a change: with an unsafe method only other actions count."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    decl = declaration(view) if view else None
    if decl is None or action not in decl.link_actions:
        return False
    if action == VIEW and request.method not in SAFE_METHODS:
        return False
    return granted(entity, entity_id, action)


def granted(entity: str, entity_id: int, action: str) -> bool:
    """Whether this browser holds a live grant of this record whose purpose allows `action`
    (what a page may offer; a view checks with `allows`)."""
    now = utcnow().timestamp()
    return any(g[0] == entity and g[1] == entity_id and g[3] > now
               and action in getattr(PURPOSES.get(g[2]), "actions", ())
               for g in session.get("link_grants", []))
