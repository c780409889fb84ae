"""Sign-in pages."""

import hashlib

from flask import current_app, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp
from app.auth.decorators import safe_next
from app.auth.services import (
    AuthError,
    check_code,
    citizen_for_phone,
    code_not_sent,
    issue_code,
    normalize_phone,
    staff_login,
)
from app.core.privacy import mask_phone
from app.extensions import limiter


def _phone_key() -> str:
    phone = normalize_phone(request.form.get("phone")) or "invalid"
    return "sms-phone:" + hashlib.sha256(phone.encode()).hexdigest()[:20]


def _login_page(error=None, status=200, phone=""):
    return render_template("auth/login.html", error=error, phone=phone,
                           next=safe_next(request.values.get("next"))), status


def _too_many(_limit):
    return make_response(_login_page("获取验证码太频繁,请稍后再试", 429,
                                     request.form.get("phone", "")))


def _too_many_tries(_limit):
    return make_response(render_template(
        "auth/verify.html", error="尝试次数过多,请稍后再试",
        masked=mask_phone(session.get("login_phone")),
        next=safe_next(request.values.get("next"))), 429)


@bp.get("/login")
def login():
    """Ask for a phone number."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    return _login_page(phone=session.get("login_phone", ""))


@bp.post("/login/code")
@limiter.limit(lambda: current_app.config["SMS_LIMITS_PER_IP"], on_breach=_too_many,
               deduct_when=lambda r: r.status_code == 303)
@limiter.limit(lambda: current_app.config["SMS_LIMITS_PER_PHONE"], key_func=_phone_key,
               on_breach=_too_many, deduct_when=lambda r: r.status_code == 303)
def send_code():
    """Send a sign-in code; known and unknown numbers get the same answer."""
    raw = request.form.get("phone", "")
    phone = normalize_phone(raw)
    if not phone:
        return _login_page("请输入正确的 11 位手机号码", 400, raw)
    issue_code(phone, "login")
    session["login_phone"] = phone
    return redirect(url_for("auth.verify", next=request.form.get("next")), code=303)


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS_PER_IP"], methods=["POST"],
               on_breach=_too_many_tries)
def verify():
    """Check the code and sign the citizen in."""
    phone = session.get("login_phone")
    next_url = safe_next(request.values.get("next"))
    if not phone:
        return redirect(url_for("auth.login", next=next_url))
    if request.method == "GET":
        return render_template("auth/verify.html", masked=mask_phone(phone), next=next_url,
                               error=code_not_sent(phone))
    code = request.form.get("code", "").strip()
    try:
        if not (len(code) == 6 and code.isdigit()):
            raise AuthError("请输入 6 位数字验证码")
        check_code(phone, code, "login")
    except AuthError as err:
        return render_template("auth/verify.html", masked=mask_phone(phone), next=next_url,
                               error=str(err), code=code), 400
    session.pop("login_phone", None)
    login_user(citizen_for_phone(phone), remember=True)
    return redirect(next_url, code=303)


@bp.route("/staff/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS_PER_IP"], methods=["POST"])
def staff_login_page():
    """Username and password for clerks and admins."""
    next_url = safe_next(request.values.get("next"), url_for("core.me"))
    if request.method == "GET":
        return render_template("auth/staff_login.html", next=next_url)
    username = request.form.get("username", "")
    result = staff_login(username, request.form.get("password", ""))
    if result.error:
        return render_template("auth/staff_login.html", next=next_url, error=result.error,
                               username=username), 400
    login_user(result.user, remember=True)
    return redirect(next_url, code=303)


@bp.post("/logout")
@login_required
def logout():
    """End the session and forget the remember-me cookie."""
    provider_session = session.get("sso_logout")  # set by app/sso at a provider sign-in
    session.clear()
    logout_user()  # after clear(): it leaves the mark that deletes the remember cookie
    if provider_session:  # that page sends the browser on to end the provider's session
        session["sso_logout"] = provider_session
        return redirect(url_for("sso.signed_out"), code=303)
    return redirect(url_for("core.home"), code=303)
