"""Sign-in pages."""

import hashlib
import math
import time

from flask import (
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

from app.auth import bp, sessions
from app.auth.services import (
    AuthError,
    change_password,
    check_code,
    citizen_for_phone,
    code_not_sent,
    issue_code,
    last_sent_at,
    normalize_phone,
    resend_seconds,
    resend_wait,
    staff_login,
    wait_message,
)
from app.core.access import STAFF, Scope, own_view, public_view, staff_view
from app.core.privacy import mask_phone
from app.core.redirects import safe_target
from app.extensions import db, limiter
from app.htmx import is_partial


def _phone_key() -> str:
    phone = normalize_phone(request.form.get("phone")) or "invalid"
    return "sms-phone:" + hashlib.sha256(phone.encode()).hexdigest()[:20]


def _phone_limits() -> str:
    return current_app.config["SMS_LIMITS_PER_PHONE"]


def _login_page(error=None, status=200, phone="", code="", code_error=None, wait=0):
    """The one-screen sign-in: phone, code and the inline 获取验证码 button."""
    return render_template("auth/login.html", error=error, phone=phone, code=code,
                           code_error=code_error, wait=wait,
                           next=safe_target(request.values.get("next"))), status


def _code_button(status: int, message: str, wait: int = 0, error: bool = False):
    """The 获取验证码 button and its status line, for htmx to swap in place."""
    return make_response(render_template(
        "auth/_code_send.html", send_url=url_for("auth.send_code"), wait=wait,
        message=message, message_error=error), status)


def _too_many(limit):
    seconds = max(1, math.ceil(limit.reset_at - 1 - time.time()))  # reset_at rounds up
    if is_partial():
        return _code_button(429, wait_message(seconds), seconds, error=True)
    return make_response(_login_page(wait_message(seconds), 429, request.form.get("phone", ""),
                                     request.form.get("code", ""), wait=seconds))


def _too_many_tries(_limit):
    if "phone" in request.form:
        return make_response(_login_page(None, 429, request.form.get("phone", ""),
                                         code_error="尝试次数过多,请稍后再试"))
    return make_response(render_template(
        "auth/verify.html", error="尝试次数过多,请稍后再试",
        masked=mask_phone(session.get("login_phone")),
        next=safe_target(request.values.get("next"))), 429)


@bp.get("/login")
@public_view
def login():
    """Phone and code on one screen (without JavaScript the button leads to a second step)."""
    if current_user.is_authenticated:
        return redirect(safe_target(request.args.get("next")))
    phone = session.get("login_phone", "")
    wait = resend_wait(_phone_limits(), last_sent_at(phone)) if phone else 0
    return _login_page(phone=phone, wait=wait)


@bp.post("/login/code")
@public_view
@limiter.limit(lambda: current_app.config["SMS_LIMITS_PER_IP"], on_breach=_too_many,
               deduct_when=lambda r: r.status_code in (200, 303))
@limiter.limit(_phone_limits, key_func=_phone_key,
               on_breach=_too_many, deduct_when=lambda r: r.status_code in (200, 303))
def send_code():
    """Send a sign-in code; known and unknown numbers get the same answer. From the inline
    button (htmx) the answer is the button itself, counting down the server's own limit."""
    raw = request.form.get("phone", "")
    phone = normalize_phone(raw)
    if not phone:
        if is_partial():
            return _code_button(400, "请输入正确的 11 位手机号码", error=True)
        return _login_page("请输入正确的 11 位手机号码", 400, raw)
    issue_code(phone, "login")
    session["login_phone"] = phone
    if is_partial():
        return _code_button(200, f"验证码已发送至 {mask_phone(phone)},5 分钟内有效",
                            resend_seconds(_phone_limits()))
    return redirect(url_for("auth.verify", next=safe_target(request.form.get("next"), None)),
                    code=303)


def _verify_page(phone, next_url, error=None, code="", status=200):
    wait = resend_wait(_phone_limits(), last_sent_at(phone))
    return render_template("auth/verify.html", masked=mask_phone(phone), next=next_url,
                           error=error, code=code, wait=wait), status


@bp.route("/login/verify", methods=["GET", "POST"])
@public_view
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS_PER_IP"], methods=["POST"],
               on_breach=_too_many_tries)
def verify():
    """Check the code and sign the citizen in: from the one screen (phone in the form) or the
    second step of the two-step form (phone kept in the session)."""
    one_screen = "phone" in request.form
    raw_phone = request.form.get("phone", "")
    phone = normalize_phone(raw_phone) if one_screen else session.get("login_phone")
    next_url = safe_target(request.values.get("next"))
    code = request.form.get("code", "").strip()
    if one_screen and not phone:
        return _login_page("请输入正确的 11 位手机号码", 400, raw_phone, code)
    if not phone:
        return redirect(url_for("auth.login", next=next_url))
    if request.method == "GET":
        return _verify_page(phone, next_url, code_not_sent(phone))
    try:
        if not (len(code) == 6 and code.isdigit()):
            raise AuthError("请输入 6 位数字验证码")
        check_code(phone, code, "login")
    except AuthError as err:
        if one_screen:
            wait = resend_wait(_phone_limits(), last_sent_at(phone))
            return _login_page(None, 400, raw_phone, code, str(err), wait)
        return _verify_page(phone, next_url, str(err), code, 400)
    sessions.start(citizen_for_phone(phone))  # a fresh session: login_phone and all
    return redirect(next_url, code=303)


@bp.route("/staff/login", methods=["GET", "POST"])
@public_view
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS_PER_IP"], methods=["POST"])
def staff_login_page():
    """Username and password for clerks and admins."""
    next_url = safe_target(request.values.get("next"), url_for("core.me"))
    if request.method == "GET":
        return render_template("auth/staff_login.html", next=next_url)
    username = request.form.get("username", "")
    result = staff_login(username, request.form.get("password", ""))
    if result.error:
        return render_template("auth/staff_login.html", next=next_url, error=result.error,
                               username=username), 400
    sessions.start(result.user)
    return redirect(next_url, code=303)


@bp.post("/logout")
@own_view()
@login_required
def logout():
    """End this browser's sign-in: its session and remember-me cookies open nothing again."""
    provider_session = session.get("sso_logout")  # set by app/sso at a provider sign-in
    sessions.sign_out()
    if provider_session:  # that page sends the browser on to end the provider's session
        session["sso_logout"] = provider_session
        return redirect(url_for("sso.signed_out"), code=303)
    return redirect(url_for("core.home"), code=303)


@bp.post("/logout/all")
@own_view()
@login_required
def logout_all():
    """退出所有设备: end every sign-in of this person, this browser's too (a lost phone)."""
    count = sessions.end_all(current_user, "everywhere")
    db.session.commit()
    sessions.sign_out()
    flash(f"已退出所有设备(共 {count} 处登录)。" if count > 1 else "已退出登录。", "info")
    return redirect(url_for("core.home"), code=303)


@bp.route("/staff/password", methods=["GET", "POST"])
@staff_view(Scope.OWN, roles=STAFF)
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS_PER_IP"], methods=["POST"])
def staff_password():
    """修改密码: the current one, the new one twice; every other sign-in of this account ends."""
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    errors = change_password(current_user, request.form.get("current", ""),
                             request.form.get("new", ""), request.form.get("again", ""))
    if errors:
        return render_template("auth/password.html", errors=errors), 400
    sessions.start(current_user._get_current_object())  # this browser stays, on a new sign-in
    flash("密码已修改,其他设备上的登录已全部退出。", "success")
    return redirect(url_for("core.me"), code=303)
