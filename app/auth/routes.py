"""Sign-in pages."""

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

from app.auth import bp, consent, sessions
from app.auth.services import (
    AuthError,
    TooManyCodes,
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
from app.core.access import STAFF, Scope, declaration, own_view, public_view, staff_view
from app.core.privacy import mask_phone
from app.core.redirects import safe_target
from app.extensions import db, limiter
from app.htmx import is_partial


def _phone_limits() -> str:
    return current_app.config["SMS_LIMITS_PER_PHONE"]


AGREE_FIRST = "请阅读并勾选同意《用户服务协议》和《隐私政策》"


def _login_page(error=None, status=200, phone="", code="", code_error=None, wait=0,
                agree_error=None):
    """The one-screen sign-in: phone, code and the inline 获取验证码 button."""
    return render_template("auth/login.html", error=error, phone=phone, code=code,
                           code_error=code_error, wait=wait, agree_error=agree_error,
                           agreed=bool(request.form.get("agree")),
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
def send_code():
    """Send a sign-in code; known and unknown numbers get the same answer. From the inline
    button (htmx) the answer is the button itself, counting down the server's own limit."""
    raw = request.form.get("phone", "")
    phone = normalize_phone(raw)
    if not phone:
        if is_partial():
            return _code_button(400, "请输入正确的 11 位手机号码", error=True)
        return _login_page("请输入正确的 11 位手机号码", 400, raw)
    try:
        issue_code(phone, "login")  # the phone's limit counts every code, whatever it is for
    except TooManyCodes as err:
        if is_partial():
            return _code_button(429, str(err), err.seconds, error=True)
        return _login_page(str(err), 429, raw, request.form.get("code", ""), wait=err.seconds)
    session["login_phone"] = phone
    if is_partial():
        return _code_button(200, f"验证码已发送至 {mask_phone(phone)},5 分钟内有效",
                            resend_seconds(_phone_limits()))
    return redirect(url_for("auth.verify", next=safe_target(request.form.get("next"), None)),
                    code=303)


def _verify_page(phone, next_url, error=None, code="", status=200, agree_error=None):
    wait = resend_wait(_phone_limits(), last_sent_at(phone))
    return render_template("auth/verify.html", masked=mask_phone(phone), next=next_url,
                           error=error, code=code, wait=wait, agree_error=agree_error,
                           agreed=bool(request.form.get("agree"))), status


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
        return redirect(url_for("auth.login", next=next_url), code=303)
    if request.method == "GET":
        return _verify_page(phone, next_url, code_not_sent(phone))
    try:
        if not (len(code) == 6 and code.isdecimal()):
            raise AuthError("请输入 6 位数字验证码")
    except AuthError as err:
        return _refused(one_screen, raw_phone, phone, next_url, code, code_error=str(err))
    if not request.form.get("agree"):  # asked before the code is spent
        return _refused(one_screen, raw_phone, phone, next_url, code, agree_error=AGREE_FIRST)
    try:
        check_code(phone, code, "login", commit=False)
    except AuthError as err:
        return _refused(one_screen, raw_phone, phone, next_url, code, code_error=str(err))
    # The spent code, the citizen, the consent and the new sign-in commit together (#19; a
    # browser signed in already first ends its old sign-in): a failure between spends nothing.
    user = citizen_for_phone(phone)
    if user.is_active:  # a disabled account agrees to nothing: start() refuses it
        consent.record(user.id, consent.AT_SIGN_IN)
    if sessions.start(user):  # a fresh session: login_phone and all
        consent.remember_signed_in_agreement()
    db.session.commit()  # start() committed all of it; this keeps the spent code if it refused
    return redirect(next_url, code=303)


def _refused(one_screen, raw_phone, phone, next_url, code, code_error=None, agree_error=None):
    """The form again, 400, with what was typed and the message beside its field."""
    if one_screen:
        wait = resend_wait(_phone_limits(), last_sent_at(phone))
        return _login_page(None, 400, raw_phone, code, code_error, wait, agree_error)
    return _verify_page(phone, next_url, code_error, code, 400, agree_error)


# -- 《用户服务协议》《隐私政策》 and asking again when they change ------------------------------

@bp.get("/terms")
@public_view
def terms():
    """《用户服务协议》, written for this service."""
    return render_template("auth/terms.html", version=consent.version("terms"))


@bp.get("/privacy")
@public_view
def privacy():
    """《隐私政策》: what is collected, why, how long, who sees it, how to have it deleted."""
    return render_template("auth/privacy.html", version=consent.version("privacy"),
                           sensitive_version=consent.version("sensitive"))


@bp.route("/consent", methods=["GET", "POST"])
@own_view()
@login_required
def consent_again():
    """A new version of the 用户服务协议 or 隐私政策: agree to go on, or sign out."""
    next_url = safe_target(request.values.get("next"))
    missing = consent.sign_in_documents_outdated(current_user)
    if not missing:
        return redirect(next_url, code=303 if request.method == "POST" else 302)
    if request.method == "POST":
        if request.form.get("agree"):
            consent.agree_at_sign_in(current_user.id)
            consent.remember_signed_in_agreement()
            return redirect(next_url, code=303)
        return render_template("auth/consent.html", missing=missing, titles=consent.TITLES,
                               next=next_url, agree_error=AGREE_FIRST), 400
    return render_template("auth/consent.html", missing=missing, titles=consent.TITLES,
                           next=next_url)


@bp.before_app_request
def _ask_again_after_a_new_version():
    """A signed-in citizen opening their own pages agrees to the versions in force first."""
    if request.method != "GET" or request.headers.get("HX-Request"):
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    decl = declaration(view) if view else None
    if decl is None or decl.audience != "own" or request.endpoint == "auth.consent_again":
        return None
    if session.get(consent.SESSION_KEY) and not consent.sign_in_documents_outdated_cheap():
        return None
    user = current_user
    if not user.is_authenticated or user.is_staff:
        return None
    if consent.sign_in_documents_outdated(user):
        return redirect(url_for("auth.consent_again", next=request.full_path.rstrip("?")))
    return None


@bp.route("/staff/login", methods=["GET", "POST"])
@public_view
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS_PER_IP"], methods=["POST"])
def staff_login_page():
    """Username and password for clerks and admins."""
    next_url = safe_target(request.values.get("next"), "")  # none: staff land on 工作台
    if request.method == "GET":
        return render_template("auth/staff_login.html", next=next_url)
    username = request.form.get("username", "")
    result = staff_login(username, request.form.get("password", ""))
    if result.error:
        return render_template("auth/staff_login.html", next=next_url, error=result.error,
                               username=username), 400
    sessions.start(result.user)
    return redirect(next_url or url_for("pages.staff_home"), code=303)


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
    return redirect(url_for("pages.home"), code=303)


@bp.post("/logout/all")
@own_view()
@login_required
def logout_all():
    """退出所有设备: end every sign-in of this person, this browser's too (a lost phone)."""
    count = sessions.end_everywhere(current_user)
    sessions.sign_out()
    flash(f"已退出所有设备(共 {count} 处登录)。" if count > 1 else "已退出登录。", "info")
    return redirect(url_for("pages.home"), code=303)


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
    return redirect(url_for("pages.me"), code=303)
