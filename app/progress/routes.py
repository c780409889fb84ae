"""My matters, timelines, the lookup by number + SMS code, progress links, results delivery."""

import hashlib
import math
import time

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

from app.auth.services import resend_seconds, wait_message
from app.core.access import VIEW, Scope, own_view, public_view, staff_view
from app.core.links import grant, on_link
from app.core.readonly import read_only
from app.core.refusals import Refusal
from app.core.timeutil import utcnow
from app.extensions import limiter
from app.htmx import is_partial
from app.progress import bp, services
from app.progress.models import COURIERS, DELIVERY_LABELS, DeliveryMethod
from app.progress.notify import push_enabled
from app.progress.services import ProgressError

LOOKUP = "progress_lookup"
DRAFT = "progress_delivery"


def _in_wechat() -> bool:
    return "MicroMessenger" in request.headers.get("User-Agent", "")


@bp.app_context_processor
def _progress_globals():
    return {"in_wechat": _in_wechat}


class MatterNotFound(Refusal):
    """The same answer for a record that does not exist and one that is someone else's."""

    default_status = 404
    titles = {404: "没有找到这条办件"}
    heading = "没有找到"
    rule = "progress_matter"
    more = "progress/_not_found_more.html"

    def __init__(self):
        super().__init__("这条办件不存在,或者需要本人验证后才能查看。")


# -- 我的办件 -------------------------------------------------------------------------------------

@bp.get("/progress/mine")
@own_view()
@read_only  # outside the sign-in check, whose user query would start the transaction
def mine():
    """Every matter of the signed-in citizen, newest first, each with its status; someone not
    signed in chooses between signing in and 一号查询."""
    if not current_user.is_authenticated:
        return redirect(url_for("progress.choose"))
    response = make_response(render_template(
        "progress/mine.html", matters=services.matters_for(current_user.id),
        signed_in_owner=True, push_key=_push_key()))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _push_key() -> str | None:
    """The VAPID public key for the opt-in button, when Web Push is configured."""
    return current_app.config["VAPID_PUBLIC_KEY"] if push_enabled() else None


@bp.get("/progress/<kind>/<int:entity_id>")
@own_view(VIEW)
@read_only
def timeline(kind: str, entity_id: int):
    """One matter's steps, newest first, with what to do next and whom to call."""
    summary = services.viewable(kind, entity_id)
    if summary is None:
        raise MatterNotFound()
    owner = current_user.is_authenticated and current_user.id == summary.citizen_id
    steps, delivery = services.timeline(summary, owner)
    response = make_response(render_template(
        "progress/timeline.html", matter=summary, delivery=delivery, steps=steps,
        signed_in_owner=owner, push_key=_push_key()))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@on_link("progress")
def open_progress_link(link):
    """/t/<token> for purpose "progress": this one record, without signing in."""
    if services.get_matter(link.entity, link.entity_id) is None:
        raise MatterNotFound()
    grant(link)
    return redirect(url_for("progress.timeline", kind=link.entity, entity_id=link.entity_id))


# -- 一号查询: number + SMS code ------------------------------------------------------------------

@bp.get("/progress/find")
@public_view
def choose():
    """我要查 and the 进度 tab, signed out: sign in to see every matter, or look one up by its
    number without signing in."""
    if current_user.is_authenticated:
        return redirect(url_for("progress.mine"))
    return render_template("progress/choose.html")


def _number_key() -> str:
    number = services.normalize_number(request.form.get("number")) or "invalid"
    return "lookup-number:" + hashlib.sha256(number.encode()).hexdigest()[:20]


def _session_number_key() -> str:
    number = (session.get(LOOKUP) or {}).get("number", "none")
    return "lookup-check:" + hashlib.sha256(number.encode()).hexdigest()[:20]


def _number_limits() -> str:
    return current_app.config["LOOKUP_LIMITS_PER_NUMBER"]


def _lookup_wait(state: dict | None) -> int:
    """Seconds before another code may be asked for the number in this browser's lookup."""
    if not state or not state.get("at"):
        return 0
    sent = utcnow().timestamp() - state["at"]
    return max(0, resend_seconds(_number_limits()) - int(sent))


def _lookup_page(error=None, status=200, number="", code="", code_error=None, wait=None):
    """一号查询 on one screen: the number, the inline 获取验证码 button, the code."""
    state = session.get(LOOKUP)
    if wait is None:
        wait = _lookup_wait(state) if state and state.get("number") == number else 0
    return render_template("progress/lookup.html", error=error, number=number, code=code,
                           code_error=code_error, wait=wait), status


def _code_button(status: int, message: str, wait: int = 0, error: bool = False):
    return make_response(render_template(
        "auth/_code_send.html", send_url=url_for("progress.send_lookup_code"), wait=wait,
        message=message, message_error=error), status)


def _too_many_lookups(limit):
    seconds = max(1, math.ceil(limit.reset_at - 1 - time.time()))  # reset_at rounds up
    if is_partial():
        return _code_button(429, wait_message(seconds, "查询"), seconds, error=True)
    return make_response(_lookup_page(wait_message(seconds, "查询"), 429,
                                      request.form.get("number", ""), wait=seconds))


def _too_many_tries(_limit):
    if "number" in request.form:
        return make_response(_lookup_page(None, 429, request.form.get("number", ""),
                                          code_error="尝试次数过多,请稍后再试"))
    return make_response(render_template("progress/lookup_code.html",
                                         error="尝试次数过多,请稍后再试"), 429)


@bp.get("/progress/lookup")
@public_view
def lookup():
    """Ask for the number on the receipt or in the SMS, and the code, on one screen (a number
    typed on the home page in care mode comes along)."""
    typed = request.args.get("number", "")[:30]
    # No countdown here: the wait is per number and the person may type another one; asking
    # too soon for the same number is answered with the real seconds.
    return _lookup_page(number=typed or (session.get(LOOKUP) or {}).get("number", ""), wait=0)


@bp.post("/progress/lookup")
@public_view
@limiter.limit(lambda: current_app.config["LOOKUP_LIMITS_PER_IP"],
               on_breach=_too_many_lookups,
               deduct_when=lambda r: r.status_code in (200, 303))
@limiter.limit(_number_limits, key_func=_number_key, on_breach=_too_many_lookups,
               deduct_when=lambda r: r.status_code in (200, 303))
def send_lookup_code():
    """Send a code to the phone on file; an unknown number gets the very same answer. From the
    inline button (htmx) the answer is the button, counting down the server's own limit."""
    raw = request.form.get("number", "")
    number = services.normalize_number(raw)
    if number is None:
        message = "请输入正确的办件编号或预约号(字母和数字)"
        if is_partial():
            return _code_button(400, message, error=True)
        return _lookup_page(message, 400, raw)
    session[LOOKUP] = services.start_lookup(number)
    if is_partial():
        return _code_button(200, "如果编号正确,验证码已发送到办理时登记的手机,5 分钟内有效",
                            resend_seconds(_number_limits()))
    return redirect(url_for("progress.lookup_code"), code=303)


@bp.route("/progress/lookup/code", methods=["GET", "POST"])
@public_view
@limiter.limit(lambda: current_app.config["LOOKUP_CHECKS_PER_IP"],
               methods=["POST"], on_breach=_too_many_tries)
@limiter.limit(lambda: current_app.config["LOOKUP_CHECKS_PER_NUMBER"],
               methods=["POST"], key_func=_session_number_key, on_breach=_too_many_tries)
def lookup_code():
    """Check the code and open that one record's timeline (from the one screen, the number
    comes along and must be the one the code was sent for)."""
    state = session.get(LOOKUP)
    one_screen = request.method == "POST" and "number" in request.form
    raw, code = request.form.get("number", ""), request.form.get("code", "").strip()
    if one_screen and (not state or services.normalize_number(raw) != state.get("number")):
        message = "请先获取验证码" if services.normalize_number(raw) else None
        return _lookup_page(None if message else "请输入正确的办件编号或预约号(字母和数字)",
                            400, raw, code, message)
    if not state:
        return redirect(url_for("progress.lookup"), code=303)
    if request.method == "GET":
        return render_template("progress/lookup_code.html")
    try:
        if not (len(code) == 6 and code.isdecimal()):
            raise ProgressError("请输入 6 位数字验证码", "code")
        summary = services.finish_lookup(state, code)
    except ProgressError as err:
        session[LOOKUP] = state  # the tries count changed
        if one_screen:
            return _lookup_page(None, 400, raw, code, str(err))
        return render_template("progress/lookup_code.html", error=str(err), code=code), 400
    session.pop(LOOKUP, None)
    return redirect(url_for("progress.timeline", kind=summary.kind, entity_id=summary.id),
                    code=303)


# -- 结果送达: pickup or courier ------------------------------------------------------------------

def _delivery_matter(kind: str, entity_id: int):
    """The completed matter of the signed-in owner: choosing where results go is theirs alone
    (a link only shows the progress); someone not signed in is asked to sign in."""
    summary = services.viewable(kind, entity_id)
    if summary is None and not current_user.is_authenticated:
        abort(redirect(url_for("auth.login", next=request.path)))
    return summary if summary is not None and summary.completed else None


def _draft(kind: str, entity_id: int) -> dict:
    draft = session.get(DRAFT) or {}
    return draft if draft.get("matter") == f"{kind}:{entity_id}" else {
        "matter": f"{kind}:{entity_id}"}


@bp.route("/progress/<kind>/<int:entity_id>/delivery", methods=["GET", "POST"])
@own_view()
def delivery_method(kind: str, entity_id: int):
    """Step 1: pickup at the window, or courier."""
    summary = _delivery_matter(kind, entity_id)
    if summary is None:
        raise MatterNotFound()
    draft = _draft(kind, entity_id)
    if request.method == "GET":
        if not draft.get("method") and (saved := services.delivery_for(kind, entity_id)):
            draft = {**draft, "method": saved.method, "name": saved.recipient,
                     "phone": saved.phone, "address": saved.address}
            session[DRAFT] = draft
        return render_template("progress/delivery_method.html", matter=summary, draft=draft,
                               labels=DELIVERY_LABELS)
    try:
        draft["method"] = services.check_delivery_method(request.form.get("method"))
    except ProgressError as err:
        return render_template("progress/delivery_method.html", matter=summary, draft=draft,
                               labels=DELIVERY_LABELS, error=str(err)), 400
    session[DRAFT] = draft
    step = ("progress.delivery_address" if draft["method"] == DeliveryMethod.COURIER
            else "progress.delivery_check")
    return redirect(url_for(step, kind=kind, entity_id=entity_id), code=303)


@bp.route("/progress/<kind>/<int:entity_id>/delivery/address", methods=["GET", "POST"])
@own_view()
def delivery_address(kind: str, entity_id: int):
    """Step 2 (courier only): recipient, phone and address."""
    summary = _delivery_matter(kind, entity_id)
    if summary is None:
        raise MatterNotFound()
    draft = _draft(kind, entity_id)
    if draft.get("method") != DeliveryMethod.COURIER:
        return redirect(url_for("progress.delivery_method", kind=kind, entity_id=entity_id),
                        code=303)
    if request.method == "GET":
        if not draft.get("phone") and current_user.is_authenticated:
            draft["phone"] = current_user.phone
        return render_template("progress/delivery_address.html", matter=summary, draft=draft)
    typed = {f: request.form.get(f, "") for f in ("name", "phone", "address")}
    try:
        draft.update(services.check_address(**typed))
    except ProgressError as err:
        return render_template("progress/delivery_address.html", matter=summary,
                               draft={**draft, **typed}, error=str(err), field=err.field), 400
    session[DRAFT] = draft
    return redirect(url_for("progress.delivery_check", kind=kind, entity_id=entity_id), code=303)


@bp.route("/progress/<kind>/<int:entity_id>/delivery/check", methods=["GET", "POST"])
@own_view()
def delivery_check(kind: str, entity_id: int):
    """核对信息, then save the choice and go back to the timeline."""
    summary = _delivery_matter(kind, entity_id)
    if summary is None:
        raise MatterNotFound()
    draft = _draft(kind, entity_id)
    if not draft.get("method") or (draft["method"] == DeliveryMethod.COURIER
                                   and not draft.get("address")):
        return redirect(url_for("progress.delivery_method", kind=kind, entity_id=entity_id),
                        code=303)
    if request.method == "GET":
        return render_template("progress/delivery_check.html", matter=summary, draft=draft,
                               labels=DELIVERY_LABELS)
    actor = current_user.id if current_user.is_authenticated else None
    try:
        row = services.choose_delivery(summary, draft, actor)
    except ProgressError as err:
        return render_template("progress/delivery_check.html", matter=summary, draft=draft,
                               labels=DELIVERY_LABELS, error=str(err)), err.status
    session.pop(DRAFT, None)
    flash(f"已保存:{row.label}", "info")
    return redirect(url_for("progress.timeline", kind=kind, entity_id=entity_id), code=303)


# -- 寄出: the hall's staff post the results -------------------------------------------------------

def _deliveries_page(error: ProgressError | None = None, failed_id: int | None = None,
                     typed: dict | None = None):
    waiting, sent = services.deliveries_to_send()
    matters = {(r.kind, r.entity_id): services.get_matter(r.kind, r.entity_id)
               for r in [*waiting, *sent]}
    response = make_response(render_template(
        "progress/staff_deliveries.html", waiting=waiting, sent=sent, matters=matters,
        couriers=COURIERS, error=error, failed_id=failed_id, typed=typed or {}),
        error.status if error else 200)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/staff/deliveries")
@staff_view(Scope.HALL)
def staff_deliveries():
    """快递寄送: the hall's completed matters whose owners chose courier, still to be posted."""
    return _deliveries_page()


@bp.post("/staff/deliveries/<int:delivery_id>/sent")
@staff_view(Scope.HALL)
def staff_delivery_sent(delivery_id: int):
    """登记寄出: the company and 运单号; the citizen gets them by SMS and on the timeline."""
    row = services.delivery_for_staff(delivery_id)
    typed = {"courier": request.form.get("courier", ""),
             "tracking_no": request.form.get("tracking_no", "")[:40]}
    try:
        services.mark_sent(row, typed["courier"], typed["tracking_no"], current_user.id)
    except ProgressError as err:
        return _deliveries_page(err, delivery_id, typed)
    flash("已登记寄出,群众会收到短信", "info")
    return redirect(url_for("progress.staff_deliveries", hall=request.args.get("hall")), code=303)


# -- Web Push opt-in -----------------------------------------------------------------------------

@bp.post("/progress/push/subscribe")
@own_view()
@login_required
def push_subscribe():
    """Remember this browser's push subscription for the signed-in citizen."""
    if not push_enabled():
        return {"error": "消息推送未开启"}, 404
    try:
        services.save_push_subscription(current_user.id, request.get_json(silent=True))
    except ProgressError as err:
        return {"error": str(err)}, 400
    return {"ok": True}, 201


@bp.post("/progress/push/unsubscribe")
@own_view()
@login_required
def push_unsubscribe():
    """Forget this browser's subscription."""
    endpoint = (request.get_json(silent=True) or {}).get("endpoint", "")
    services.remove_push_subscription(current_user.id, str(endpoint))
    return {"ok": True}
