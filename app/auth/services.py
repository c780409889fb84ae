"""SMS codes and staff passwords: issuing, checking, lockout."""

import hashlib
import hmac
import logging
import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from limits import parse_many
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import Role, SmsCode, User
from app.auth.sessions import end_all
from app.core.models import audit
from app.core.refusals import Refusal
from app.core.timeutil import utcnow
from app.extensions import db, limiter
from app.sms.services import find, queue_sms, will_not_arrive

log = logging.getLogger(__name__)
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
PURPOSE_TEMPLATES = {"login": "login_code", "lookup": "lookup_code", "link": "link_code"}


class AuthError(Refusal):
    """A sign-in problem with a message for the person (a Refusal; the forms show it)."""


class TooManyCodes(AuthError):
    """This phone has had all the codes it may get for now; `seconds` until the next one."""

    default_status = 429

    def __init__(self, message: str, seconds: int = 0):
        super().__init__(message)
        self.seconds = seconds


TOO_MANY_CODES = "获取验证码太频繁,请稍后再试"


def normalize_phone(raw: str | None) -> str | None:
    """The 11-digit mainland mobile number, or None when it is not one."""
    phone = re.sub(r"[\s-]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    return phone if PHONE_RE.match(phone) else None


def _hash(phone: str, purpose: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}|{purpose}|{code}".encode(), hashlib.sha256).hexdigest()


def spend_phone_code(phone: str) -> bool:
    """Spend one of the codes a phone may get (SMS_LIMITS_PER_PHONE), whatever the code is for:
    sign-in, 一号查询 or linking an account all count against the same limit. False when spent."""
    limits = parse_many(current_app.config["SMS_LIMITS_PER_PHONE"])
    key = hashlib.sha256(phone.encode()).hexdigest()[:20]  # no phone number in the store
    try:
        return _spend(limiter.limiter, limits, key)
    except Exception:  # the store is down: count in this process, as the limiter itself does
        log.warning("rate limit store unreachable; counting codes per phone in memory")
        return _spend(_fallback_limiter(), limits, key)


def _spend(strategy, limits, key: str) -> bool:
    if not all(strategy.test(limit, "code-phone", key) for limit in limits):
        return False
    for limit in limits:
        strategy.hit(limit, "code-phone", key)
    return True


def phone_code_wait(phone: str) -> int:
    """Seconds until this phone may get another code, by the limits it has reached."""
    key = hashlib.sha256(phone.encode()).hexdigest()[:20]
    try:
        return _wait(limiter.limiter, key)
    except Exception:  # the store is down: the in-process count
        return _wait(_fallback_limiter(), key)


def _wait(strategy, key: str) -> int:
    now, waits = time.time(), [0]
    for limit in parse_many(current_app.config["SMS_LIMITS_PER_PHONE"]):
        reset_at, remaining = strategy.get_window_stats(limit, "code-phone", key)
        if remaining <= 0:
            waits.append(math.ceil(reset_at - now))
    return max(waits)


@cache
def _fallback_limiter():
    from limits.storage import MemoryStorage
    from limits.strategies import FixedWindowRateLimiter

    return FixedWindowRateLimiter(MemoryStorage())


def issue_code(phone: str, purpose: str = "login", send: bool = True) -> SmsCode:
    """Replace any live code for this phone and purpose, and queue the SMS (with send=False, a
    decoy nobody receives: an unknown number is then checked exactly as a real one).

    Raises TooManyCodes, leaving the live code as it is, once the phone has had its codes."""
    if send and not spend_phone_code(phone):
        seconds = phone_code_wait(phone)
        raise TooManyCodes(wait_message(seconds) if seconds else TOO_MANY_CODES, seconds)
    now = utcnow()
    for old in db.session.scalars(select(SmsCode).where(
            SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.used_at.is_(None))):
        old.used_at = now
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = current_app.config["SMS_CODE_TTL_SECONDS"]
    row = SmsCode(phone=phone, purpose=purpose, code_hash=_hash(phone, purpose, code),
                  expires_at=now + timedelta(seconds=ttl))
    db.session.add(row)
    db.session.flush()
    if send:
        queue_sms(phone, PURPOSE_TEMPLATES[purpose], {"code": code}, key=f"code:{row.id}",
                  expires_at=row.expires_at)
    db.session.commit()
    return row


def code_not_sent(phone: str, purpose: str = "login") -> str | None:
    """What to tell someone whose latest code's SMS will not arrive (e.g. not sent in time)."""
    row = db.session.scalar(select(SmsCode).where(
        SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.used_at.is_(None)
    ).order_by(SmsCode.id.desc()).limit(1))
    if row is None or not will_not_arrive(find(f"code:{row.id}")):
        return None
    return "验证码短信未能及时发出,请点“没收到?重新发送”获取新的验证码"


def resend_seconds(limits: str) -> int:
    """How long one sent code bars the next, by the limit the server enforces: the longest window
    among its one-at-a-time limits ("1/minute" -> 60)."""
    return max((item.get_expiry() for item in parse_many(limits) if item.amount == 1), default=0)


def resend_wait(limits: str, sent_at: datetime | None) -> int:
    """Seconds left before another code may be asked for, when the last one was sent then."""
    if sent_at is None:
        return 0
    return max(0, resend_seconds(limits) - int((utcnow() - sent_at).total_seconds()))


def last_sent_at(phone: str, purpose: str = "login") -> datetime | None:
    """When the latest code for this phone and purpose was issued."""
    return db.session.scalar(select(SmsCode.created_at).where(
        SmsCode.phone == phone, SmsCode.purpose == purpose).order_by(SmsCode.id.desc()).limit(1))


def wait_message(seconds: int, what: str = "获取验证码") -> str:
    """"获取验证码太频繁,请 45 秒后再试", in minutes once it is long."""
    if seconds <= 120:
        return f"{what}太频繁,请 {max(seconds, 1)} 秒后再试"
    return f"{what}太频繁,请 {-(-seconds // 60)} 分钟后再试"


def check_code(phone: str, code: str, purpose: str = "login", commit: bool = True) -> None:
    """Consume a correct code or raise AuthError; three wrong tries kill it. With commit=False
    a correct code is spent in the caller's transaction (its row stays locked until then)."""
    row = db.session.scalar(select(SmsCode).where(
        SmsCode.phone == phone, SmsCode.purpose == purpose, SmsCode.used_at.is_(None)
    ).order_by(SmsCode.id.desc()).with_for_update())
    now = utcnow()
    if row is None or row.expires_at < now:
        db.session.rollback()
        raise AuthError(code_not_sent(phone, purpose) or "验证码已失效,请重新获取")
    if not hmac.compare_digest(row.code_hash, _hash(phone, purpose, code or "")):
        row.attempts += 1
        left = current_app.config["SMS_CODE_MAX_TRIES"] - row.attempts
        if left <= 0:
            row.used_at = now
        db.session.commit()
        raise AuthError(f"验证码不正确,还可以再试 {left} 次" if left > 0
                        else "验证码错误次数过多,请重新获取")
    # Spent only while still unspent: on SQLite, where FOR UPDATE locks nothing, a second try
    # that read the code unspent meanwhile changes no row and is refused.
    spent = db.session.execute(update(SmsCode).where(
        SmsCode.id == row.id, SmsCode.used_at.is_(None)).values(used_at=now).execution_options(
        synchronize_session=False))
    if spent.rowcount != 1:
        db.session.rollback()
        raise AuthError("验证码已失效,请重新获取")
    if commit:
        db.session.commit()


def citizen_for_phone(phone: str) -> User:
    """The citizen with this phone, created on first sign-in, in the caller's transaction
    (flushed, so that it has its id)."""
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(phone=phone, role=Role.CITIZEN)
        db.session.add(user)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


@dataclass
class StaffLogin:
    user: User | None
    error: str | None


def staff_login(username: str, password: str) -> StaffLogin:
    """Check a staff password, counting failures and locking the account after too many.

    An unknown or disabled username costs one password check too, so the time of the answer
    does not tell which usernames exist."""
    generic = "用户名或密码不正确"
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    now = utcnow()
    if user is None or not user.is_staff or not user.active:
        check_password_hash(_decoy_hash(), password)
        return StaffLogin(None, generic)
    if user.locked_until and user.locked_until > now:
        check_password_hash(_decoy_hash(), password)  # the same work as every other answer
        return StaffLogin(None, "登录失败次数过多,账号已临时锁定,请稍后再试")
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["STAFF_LOCKOUT_FAILURES"]:
            minutes = current_app.config["STAFF_LOCKOUT_MINUTES"]
            user.locked_until, user.failed_logins = now + timedelta(minutes=minutes), 0
            db.session.commit()
            return StaffLogin(None, f"登录失败次数过多,账号已锁定 {minutes} 分钟")
        db.session.commit()
        return StaffLogin(None, generic)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    db.session.commit()
    return StaffLogin(user, None)


@cache
def _decoy_hash() -> str:
    """A hash of nothing, made as the real ones are, for unknown usernames to be checked against."""
    return generate_password_hash(secrets.token_hex(16))


PASSWORD_MIN = 10


def change_password(user: User, current: str, new: str, again: str) -> dict[str, str]:
    """修改密码: the errors beside each field, or {} once changed; every sign-in of the account
    ends (the route starts a fresh one for the browser that changed it)."""
    errors = {}
    if not user.check_password(current):
        errors["current"] = "当前密码不正确"
    if len(new) < PASSWORD_MIN:
        errors["new"] = f"新密码至少 {PASSWORD_MIN} 个字符"
    elif new == current or new.strip().lower() == (user.username or "").lower():
        errors["new"] = "新密码不能与当前密码或用户名相同"
    elif new != again:
        errors["again"] = "两次输入的新密码不一致"
    if errors:
        return errors
    user.set_password(new)
    user.failed_logins, user.locked_until = 0, None
    end_all(user, "password")
    audit("user", user.id, "password", actor_id=user.id, note="修改密码,其他登录已退出")
    db.session.commit()
    return {}


def set_active(user: User, active: bool, actor_id: int | None = None) -> None:
    """Disable (every sign-in of the account ends, for good) or enable a staff account."""
    user.active = active
    if not active:
        end_all(user, "disabled")
    audit("user", user.id, "enabled" if active else "disabled", actor_id=actor_id)
    db.session.commit()
