"""Sign-in pages."""


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
    TooManyCodes,
    change_password,
    check_code,
    citizen_for_phone,
    code_not_sent,
    issue_code,
    normalize_phone,
    staff_login,
)
from app.core.access import STAFF, Scope, own_view, public_view, staff_view
from app.core.privacy import mask_phone
from app.core.redirects import safe_target
from app.extensions import db, limiter


def _login_page(error=None, status=200, phone=""):
    return render_template("auth/login.html", error=error, phone=phone,
                           next=safe_target(request.values.get("next"))), status


def _too_many(_limit):
    return make_response(_login_page("获取验证码太频繁,请稍后再试", 429,
                                     request.form.get("phone", "")))


def _too_many_tries(_limit):
    return make_response(render_template(
        "auth/verify.html", error="尝试次数过多,请稍后再试",
        masked=mask_phone(session.get("login_phone")),
        next=safe_target(request.values.get("next"))), 429)


@bp.get("/login")
@public_view
def login():
    """Ask for a phone number."""
    if current_user.is_authenticated:
        return redirect(safe_target(request.args.get("next")))
    return _login_page(phone=session.get("login_phone", ""))


@bp.post("/login/code")
@public_view
@limiter.limit(lambda: current_app.config["SMS_LIMITS_PER_IP"], on_breach=_too_many,
               deduct_when=lambda r: r.status_code == 303)
def send_code():
    """Send a sign-in code; known and unknown numbers get the same answer."""
    raw = request.form.get("phone", "")
    phone = normalize_phone(raw)
    if not phone:
        return _login_page("请输入正确的 11 位手机号码", 400, raw)
    try:
        issue_code(phone, "login")  # the phone's limit counts every code, whatever it is for
    except TooManyCodes as err:
        return _login_page(str(err), 429, raw)
    session["login_phone"] = phone
    return redirect(url_for("auth.verify", next=safe_target(request.form.get("next"), None)),
                    code=303)


@bp.route("/login/verify", methods=["GET", "POST"])
@public_view
@limiter.limit(lambda: current_app.config["LOGIN_LIMITS_PER_IP"], methods=["POST"],
               on_breach=_too_many_tries)
def verify():
    """Check the code and sign the citizen in."""
    phone = session.get("login_phone")
    next_url = safe_target(request.values.get("next"))
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
    sessions.start(citizen_for_phone(phone))  # a fresh session: login_phone and all
    return redirect(next_url, code=303)


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
    return redirect(next_url or url_for("core.staff_home"), code=303)


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
