"""亮证: a licence shown as a 5-minute, single-use token (a /t/ link in a QR code, and a short
code to type), and the clerk's check of it at a window."""

import hashlib
import hmac
import re
import secrets
import string
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.core.access import scope
from app.core.links import ShortLink
from app.core.links import sign as link_mac
from app.core.refusals import rolls_back
from app.core.timeutil import utcnow
from app.extensions import db
from app.licences.models import Licence, LicenceShow
from app.licences.services import LicenceError, record_use

SHOW_PURPOSE = "licence"  # the /t/ link purpose of a 亮证 token (app/core/links.py)

CODE_RANDOM, CODE_MAC = 5, 3


def _code_mac(body: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"licence-code:" + body.encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 10 ** CODE_MAC:0{CODE_MAC}d}"


@rolls_back
def start_show(row: Licence, user, purpose: str) -> LicenceShow:
    """A fresh 5-minute token for this licence: a /t/ link for the QR code, a code to type."""
    purpose = (purpose or "").strip()[:120] or "政务服务事项"
    if not row.valid_now:
        raise LicenceError(f"这本证照{row.label[0]},不能亮证", 409)
    expires = utcnow() + timedelta(seconds=current_app.config["LICENCE_SHOW_SECONDS"])
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(7))
    token = body + link_mac(body)
    code_body = "".join(secrets.choice(string.digits) for _ in range(CODE_RANDOM))
    show = LicenceShow(licence_id=row.id, user_id=user.id, token=token,
                       code=code_body + _code_mac(code_body), purpose=purpose,
                       expires_at=expires)
    db.session.add(show)
    db.session.flush()
    db.session.add(ShortLink(token=token, purpose=SHOW_PURPOSE, entity="licence_show",
                             entity_id=show.id, expires_at=expires))
    record_use(row, "show", user.id, purpose)
    db.session.commit()
    return show


def show_for(show_id: int, user) -> LicenceShow:
    show = db.session.get(LicenceShow, show_id)
    if show is None or show.user_id != user.id:
        raise LicenceError("没有找到这次亮证", 404)
    return show


TOKEN_RE = re.compile(r"(?:/t/)?([A-Za-z0-9]{12})$")
REFUSED = "亮证码无效、已过期或已使用,请群众重新亮证"


def parse_typed(typed: str) -> tuple[str, str] | None:
    """("code", digits) or ("token", token) from what a clerk typed or the camera read."""
    typed = (typed or "").strip()
    digits = re.sub(r"\s", "", typed)
    if re.fullmatch(r"\d{8}", digits):
        return "code", digits
    found = TOKEN_RE.search(typed.split("?")[0].rstrip("/"))
    return ("token", found.group(1)) if found else None


@rolls_back
def verify(clerk, typed: str, window: str = "") -> tuple[Licence, LicenceShow]:
    """A clerk checks a 亮证: a forged, expired or reused token shows nothing; a good one is
    used up and recorded in the citizen's 用证记录."""
    parsed = parse_typed(typed)
    if parsed is None:
        raise LicenceError("请输入 8 位亮证码,或扫描群众手机上的二维码", 400, field="code")
    kind, value = parsed
    if kind == "code":
        if not hmac.compare_digest(_code_mac(value[:CODE_RANDOM]), value[CODE_RANDOM:]):
            raise LicenceError(REFUSED, 404, field="code")
        # A code is unique only among live ones: the newest live row with it.
        query = select(LicenceShow).where(LicenceShow.code == value).order_by(
            LicenceShow.id.desc())
    else:
        if not hmac.compare_digest(link_mac(value[:7]), value[7:]):
            raise LicenceError(REFUSED, 404, field="code")
        query = select(LicenceShow).where(LicenceShow.token == value)
    show = db.session.scalar(query.limit(1).with_for_update())
    if show is None or show.used_at is not None or show.expires_at < utcnow():
        raise LicenceError(REFUSED, 404 if show is None else 410, field="code")
    staff = scope()
    hall = staff.hall()
    show.used_at, show.used_by = utcnow(), clerk.id
    where = f"{hall.short_name}{window}" if window else hall.short_name
    record_use(show.licence, "verify", clerk.id, f"{where}办理{show.purpose}", hall_id=hall.id)
    db.session.commit()
    return show.licence, show


def watermark(show: LicenceShow, hall, window: str = "") -> str:
    return f"仅供 {hall.short_name}{window} 窗口办理 {show.purpose} 使用"
