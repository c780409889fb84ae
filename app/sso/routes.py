"""Provider sign-in pages: start, callback, first-time phone check, 我的 card, staff bindings."""

import logging
import time
from typing import NoReturn

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from app.auth import sessions
from app.auth.services import AuthError, TooManyCodes, check_code, issue_code, normalize_phone
from app.core.access import ADMINS, Scope, own_view, public_view, staff_view
from app.core.ids import parse_id
from app.core.privacy import mask_phone
from app.core.redirects import safe_target
from app.core.refusals import Refusal
from app.extensions import limiter
from app.sso import bp, clients, services
from app.sso.clients import SsoError
from app.sso.models import PROVIDER_LABELS
from app.sso.services import PENDING, LinkError

log = logging.getLogger(__name__)

NEXT = "sso_next"
LINK_PHONE = "sso_link_phone"
LOGOUT = "sso_logout"  # read by auth.logout: the provider session to end as well
PENDING_TTL = 600  # seconds to confirm the phone after the provider said who it is


@bp.app_context_processor
def _sso_context():
    def enabled(provider: str) -> bool:
        if provider == "wechat":
            return clients.wechat_configured() and in_wechat()
        return clients.oidc_configured()

    return {"sso_enabled": enabled}


def in_wechat() -> bool:
    """Opened inside WeChat's (or a look-alike's) in-app browser."""
    return "MicroMessenger" in request.headers.get("User-Agent", "")


class SignInRefused(Refusal):
    """A provider sign-in that did not happen: its page leads back to 登录."""

    heading = "未能登录"
    rule = "sso"
    back_endpoint = "auth.login"
    back_label = "返回登录"
    more = "sso/_more.html"


def _refuse(err: SsoError | LinkError, provider: str) -> NoReturn:
    """Refuse the attempt; nobody is signed in by a failed attempt."""
    if isinstance(err, SsoError):
        log.warning("sso %s sign-in refused: %s", provider, err.reason)
    else:
        log.info("sso %s link refused: %s", provider, err.message)
    session.pop(PENDING, None)
    raise SignInRefused(err.message, err.status, title=f"{PROVIDER_LABELS[provider]}登录未成功"
                        ) from err


def _start(provider: str, make_url):
    session[NEXT] = safe_target(request.args.get("next"), None)
    try:
        url = make_url(url_for(f"sso.{provider}_callback", _external=True))
    except SsoError as err:
        _refuse(err, provider)
    return redirect(url)


@bp.get("/oidc/login")
@public_view
def oidc_login():
    """Send the browser to the unified identity provider (PKCE, state and nonce kept here)."""
    if not clients.oidc_configured():
        abort(404)
    return _start("oidc", clients.oidc_authorization_url)


@bp.get("/oidc/callback")
@public_view
def oidc_callback():
    """Verify what the provider sent back, then sign in, link, or ask for the phone."""
    if not clients.oidc_configured():
        abort(404)
    try:
        identity = clients.oidc_identity()
    except SsoError as err:
        _refuse(err, "oidc")
    return _finish(identity)


@bp.get("/wechat/login")
@public_view
def wechat_login():
    """Send the in-app browser to WeChat-style web authorization."""
    if not clients.wechat_configured():
        abort(404)
    return _start("wechat", clients.wechat_authorization_url)


@bp.get("/wechat/callback")
@public_view
def wechat_callback():
    """Swap WeChat's single-use code for an openid, then sign in, link, or ask for the phone."""
    if not clients.wechat_configured():
        abort(404)
    try:
        identity = clients.wechat_identity(request.args)
    except SsoError as err:
        _refuse(err, "wechat")
    return _finish(identity)


def _finish(identity: clients.Identity):
    signed_in = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        outcome = services.resolve(identity, signed_in)
    except LinkError as err:
        _refuse(err, identity.provider)
    if outcome.needs_phone:
        session[PENDING] = services.pending_data(identity, time.time() + PENDING_TTL)
        return redirect(url_for("sso.link_phone"), code=303)
    return _sign_in(outcome.user, identity, outcome.linked_now)


def _sign_in(user, identity: clients.Identity, linked_now: bool):
    label = PROVIDER_LABELS[identity.provider]
    next_url = session.get(NEXT)
    if not sessions.start(user):  # a fresh session: the pending link and phone go with it
        _refuse(LinkError(services.DISABLED), identity.provider)
    if identity.id_token:
        session[LOGOUT] = {"provider": identity.provider, "id_token": identity.id_token}
    if linked_now:
        flash(f"已绑定{label},下次可以直接用{label}登录。", "info")
    log.info("sso %s sign-in for user %s", identity.provider, user.id)
    return redirect(next_url or url_for("pages.staff_home" if user.is_staff else "pages.me"),
                    code=303)


def _pending():
    pending = session.get(PENDING)
    if not pending or pending.get("exp", 0) < time.time():
        session.pop(PENDING, None)
        return None
    return pending


def _link_page(template: str, status: int = 200, **ctx):
    pending = _pending()
    provider = pending["identity"]["provider"] if pending else "oidc"
    return render_template(template, provider=PROVIDER_LABELS[provider], **ctx), status


def _too_many(_limit):
    return make_response(_link_page("sso/link_phone.html", 429, error="获取验证码太频繁,请稍后再试",
                                    phone=request.form.get("phone", "")))


@bp.get("/link")
@public_view
def link_phone():
    """First sign-in without a vouched phone: ask for the phone once."""
    if _pending() is None:
        flash("绑定已超时,请重新登录。", "warning")
        return redirect(url_for("auth.login"))
    return _link_page("sso/link_phone.html", phone=session.get(LINK_PHONE, ""))


@bp.post("/link/code")
@public_view
@limiter.limit(lambda: current_app.config["SMS_LIMITS_PER_IP"], on_breach=_too_many,
               deduct_when=lambda r: r.status_code == 303)
def link_send_code():
    """Send a code to the phone to be linked."""
    if _pending() is None:
        return redirect(url_for("sso.link_phone"), code=303)
    raw = request.form.get("phone", "")
    phone = normalize_phone(raw)
    if not phone:
        return _link_page("sso/link_phone.html", 400, error="请输入正确的 11 位手机号码",
                          phone=raw)
    try:
        issue_code(phone, "link")  # the phone's limit counts every code, whatever it is for
    except TooManyCodes as err:
        return _link_page("sso/link_phone.html", 429, error=str(err), phone=raw)
    session[LINK_PHONE] = phone
    return redirect(url_for("sso.link_verify"), code=303)


@bp.route("/link/verify", methods=["GET", "POST"])
@public_view
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS_PER_IP"], methods=["POST"])
def link_verify():
    """Check the code, link the identity to that phone's account, and sign in."""
    phone = session.get(LINK_PHONE)
    pending = _pending()
    if pending is None or not phone:
        return redirect(url_for("sso.link_phone"), code=303)
    if request.method == "GET":
        return _link_page("sso/link_verify.html", masked=mask_phone(phone))
    code = request.form.get("code", "").strip()
    try:
        if not (len(code) == 6 and code.isdecimal()):
            raise AuthError("请输入 6 位数字验证码")
        check_code(phone, code, "link")
        user = services.link_with_phone(pending, phone)
    except AuthError as err:
        return _link_page("sso/link_verify.html", 400, masked=mask_phone(phone), error=str(err),
                          code=code)
    except LinkError as err:
        _refuse(err, pending["identity"]["provider"])
    return _sign_in(user, clients.Identity(**pending["identity"]), linked_now=True)


@bp.post("/links/<int:link_id>/unlink")
@own_view()
@login_required
def unlink(link_id: int):
    """Remove one sign-in method from 我的, when another remains."""
    try:
        label = services.unlink(current_user, link_id)
    except LinkError as err:
        flash(str(err), "error")
        return redirect(url_for("pages.me"), code=303)
    if label is None:
        abort(404)
    flash(f"已解除{label}绑定。", "info")
    return redirect(url_for("pages.me"), code=303)


@bp.get("/signed-out")
@public_view
def signed_out():
    """After the local sign-out: send the browser on to end the provider's session too."""
    leaving = session.pop(LOGOUT, None)
    url = None
    if leaving and leaving.get("provider") == "oidc":
        url = clients.oidc_logout_url(leaving["id_token"], url_for("pages.home", _external=True))
    if not url:
        return redirect(url_for("pages.home"))
    # A page, not a redirect: CSP form-action would stop a POST's redirect to another site.
    return render_template("sso/signed_out.html", end_session_url=url)


@bp.route("/admin/bindings", methods=["GET", "POST"])
@staff_view(Scope.HALL, roles=ADMINS)
def admin_bindings():
    """Bind staff accounts to their unified identity subject; the role never comes from it."""
    form = {"user_id": request.form.get("user_id", ""), "subject": request.form.get("subject", "")}
    errors, status = {}, 200
    if request.method == "POST":
        try:
            services.bind_staff(current_user, _int(form["user_id"]), form["subject"])
        except LinkError as err:
            errors, status = {err.field or "subject": str(err)}, 400
        else:
            flash("已绑定。该工作人员现在可以用统一身份认证登录。", "info")
            return redirect(url_for("sso.admin_bindings"), code=303)
    return render_template("sso/admin_bindings.html", rows=services.staff_bindings(current_user),
                           form=form, errors=errors,
                           configured=clients.oidc_configured()), status


@bp.post("/admin/bindings/<int:link_id>/remove")
@staff_view(Scope.HALL, roles=ADMINS)
def admin_unbind(link_id: int):
    """Remove a staff member's binding."""
    if not services.unbind_staff(current_user, link_id):
        abort(404)
    flash("已解除绑定。", "info")
    return redirect(url_for("sso.admin_bindings"), code=303)


def _int(value: str) -> int | None:
    return parse_id(value)
