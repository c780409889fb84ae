"""Consent, as Chinese law has it: 《用户服务协议》 and 《隐私政策》 agreed at sign-in, and the
separate consent to sensitive personal information (个人信息保护法 art. 28–29) before an
application's first photo; each recorded per person and version, and asked again when a
version changes.

A new version of a document is a new text in its template and a new date in app/config.py (or
in the setting named beside it)."""

from flask import current_app, has_request_context, session
from sqlalchemy import select

from app.auth.models import Consent
from app.core.timeutil import utcnow
from app.extensions import db

TITLES = {"terms": "用户服务协议", "privacy": "隐私政策", "sensitive": "敏感个人信息处理规则"}
SETTINGS = {"terms": "TERMS_VERSION", "privacy": "PRIVACY_VERSION",
            "sensitive": "SENSITIVE_CONSENT_VERSION"}
AT_SIGN_IN = ("terms", "privacy")
SESSION_KEY = "consented"
# The last few applications this browser saw covered by the sensitive-information consent, as
# "<application id>:<version>": a recorded consent is never taken back, so the photo requests
# after it need not read it again (saves a query on each, #19).
SENSITIVE_SEEN = "sensitive_seen"
SENSITIVE_SEEN_KEPT = 4


def version(document: str) -> str:
    """The version in force of one document (its setting; by default the date of the text
    shipped in the templates)."""
    return str(current_app.config[SETTINGS[document]])


def _current(documents) -> list[str]:
    return [f"{d}:{version(d)}" for d in documents]


def record(user_id: int, documents, scope: str = "") -> None:
    """Record agreement to the versions in force (once each), in the caller's transaction."""
    have = set(agreed(user_id, documents, scope))
    for document in documents:
        if document not in have:
            db.session.add(Consent(user_id=user_id, document=document, version=version(document),
                                   scope=scope, agreed_at=utcnow()))


def agree_at_sign_in(user_id: int) -> None:
    """The citizen agreed again to the sign-in documents in force (a new version came out)."""
    record(user_id, AT_SIGN_IN)
    db.session.commit()


def agreed(user_id: int, documents, scope: str = "") -> list[str]:
    """The documents whose version in force this person has agreed to (in this scope)."""
    rows = db.session.execute(select(Consent.document, Consent.version).where(
        Consent.user_id == user_id, Consent.scope == scope,
        Consent.document.in_(list(documents)))).all()
    return [d for d, v in rows if v == version(d)]


def remember_signed_in_agreement() -> None:
    """Note in the session that the sign-in documents in force are agreed (saves a query a page)."""
    session[SESSION_KEY] = _current(AT_SIGN_IN)


def sign_in_documents_outdated_cheap() -> bool:
    """Whether this session's note of agreement is not to the versions in force (no query)."""
    return session.get(SESSION_KEY) != _current(AT_SIGN_IN)


def sign_in_documents_outdated(user) -> list[str]:
    """The sign-in documents a signed-in citizen has not agreed to in their version in force."""
    if session.get(SESSION_KEY) == _current(AT_SIGN_IN):
        return []
    missing = [d for d in AT_SIGN_IN if d not in agreed(user.id, AT_SIGN_IN)]
    if not missing:
        remember_signed_in_agreement()
    return missing


def application_scope(app_id: int) -> str:
    return f"application:{app_id}"


def sensitive_agreed(user_id: int, app_id: int) -> bool:
    """Whether the consent to sensitive personal information covers this application."""
    if _sensitive_mark(app_id) in _sensitive_seen():
        return True
    if not agreed(user_id, ["sensitive"], application_scope(app_id)):
        return False
    note_sensitive_agreed(app_id)
    return True


def note_sensitive_agreed(app_id: int) -> None:
    """Remember in this browser's session that the consent in force covers this application."""
    if not has_request_context():
        return
    mark = _sensitive_mark(app_id)
    kept = [seen for seen in _sensitive_seen() if seen != mark][-(SENSITIVE_SEEN_KEPT - 1):]
    session[SENSITIVE_SEEN] = [*kept, mark]


def _sensitive_mark(app_id: int) -> str:
    return f"{app_id}:{version('sensitive')}"


def _sensitive_seen() -> list[str]:
    return session.get(SENSITIVE_SEEN, []) if has_request_context() else []
