"""Signed-in browsers: each sign-in is a LoginSession row, and Flask-Login's id is its secret.

Flask-Login keeps `User.get_id()` in the session cookie and in the remember-me cookie. Here that
is "<user id>.<secret>" (Flask-Login's "alternative id"), and only the secret's hash is stored:
signing out ends this browser's row, and 退出所有设备, a staff password change or a disabled
account end all of that person's rows, so any copy of those cookies opens nothing afterwards.
Signing in always starts a fresh session: the browser's earlier sign-in ends and nothing of its
session carries over.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, delete, or_, select, update

from app.auth.models import LoginSession, User
from app.core.ids import parse_id
from app.core.timeutil import utcnow
from app.extensions import db


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(value: str | None) -> tuple[int | None, str]:
    user_part, _, secret = str(value or "").partition(".")
    return parse_id(user_part), secret


def issue(user: User) -> str:
    """A new sign-in of `user` in the current transaction; returns the value for the cookies."""
    secret = secrets.token_urlsafe(32)
    remember = current_app.config["REMEMBER_COOKIE_DURATION"]  # seconds, or a timedelta
    lifetime = remember if isinstance(remember, timedelta) else timedelta(seconds=remember)
    now = utcnow()
    db.session.execute(delete(LoginSession).where(  # this person's dead rows, kept tidy
        LoginSession.user_id == user.id,
        or_(LoginSession.ended_at.is_not(None), LoginSession.expires_at < now)))
    db.session.add(LoginSession(user_id=user.id, token_hash=_hash(secret), created_at=now,
                                expires_at=now + lifetime))
    user.session_token = f"{user.id}.{secret}"
    return user.session_token


def start(user: User, keep: dict | None = None) -> bool:
    """Sign `user` in on this browser with a fresh session (remembered for REMEMBER_DAYS).

    The browser's earlier sign-in, if any, ends, and its session data (link grants, half-done
    forms) is dropped; `keep` is put back. False when the account may not sign in."""
    if not user.is_active:
        return False
    end_current("signed in again")
    session.clear()
    session.update(keep or {})
    issue(user)
    db.session.commit()
    # is_active was checked above; force=True keeps login_user from asking again, which would
    # reload the whole user row the commit just expired (one statement on every sign-in)
    return login_user(user, remember=True, force=True)


def end_current(why: str = "signed out") -> None:
    """End this browser's sign-in (the row behind its cookies), if it has one."""
    if not current_user.is_authenticated:
        return
    user_id, secret = _split(current_user.get_id())
    if user_id is None or not secret:
        return
    db.session.execute(update(LoginSession).where(
        LoginSession.token_hash == _hash(secret), LoginSession.user_id == user_id,
        LoginSession.ended_at.is_(None)).values(ended_at=utcnow(), ended_why=why))
    db.session.commit()


def sign_out() -> None:
    """退出: end this browser's sign-in, then forget the session and the remember-me cookie."""
    end_current("signed out")
    session.clear()
    logout_user()  # after clear(): it leaves the mark that deletes the remember cookie


def end_all(user: User, why: str) -> int:
    """End every sign-in of `user` (in the caller's transaction); returns how many."""
    result = db.session.execute(update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    ).values(ended_at=utcnow(), ended_why=why))
    return result.rowcount


def end_everywhere(user: User) -> int:
    """退出所有设备: end and commit every sign-in of `user`; returns how many there were."""
    count = end_all(user, "everywhere")
    db.session.commit()
    return count


# Built once: every signed-in request runs it, and SQLAlchemy's statement cache saves compiling
# the query, not building it (#19).
_LIVE_SIGN_IN = select(User).join(LoginSession, LoginSession.user_id == User.id).where(
    User.id == bindparam("user_id"), User.active.is_(True),
    LoginSession.token_hash == bindparam("token_hash"), LoginSession.ended_at.is_(None),
    LoginSession.expires_at > bindparam("now"))


def load_user(value: str) -> User | None:
    """Flask-Login's user loader: the person of a live sign-in, in one query, or None."""
    user_id, secret = _split(value)
    found = None
    if user_id is not None and secret:
        found = db.session.scalar(_LIVE_SIGN_IN, {
            "user_id": user_id, "token_hash": _hash(secret), "now": utcnow()})
    if found is None:
        g.dead_sign_in = True  # forget_dead_sign_in() drops the cookies after the view
        return None
    found.session_token = value
    g.signed_in = True  # this response is for one person: app.core.security keeps it unstored
    g.signed_in_user_id = found.id  # for the request log (app/ops/middleware.py)
    return found


def forget_dead_sign_in(response):
    """After a request that brought the cookies of an ended sign-in: drop them (Flask-Login's
    logout_user()), so the browser stops sending them. Registered as an after-request hook, which
    runs before Flask-Login's own, so the remember-me cookie is deleted in the same reply."""
    if g.pop("dead_sign_in", False) and not current_user.is_authenticated:
        logout_user()
    return response
