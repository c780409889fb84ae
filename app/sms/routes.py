"""The development outbox, the provider's delivery receipts, and the admin's message pages."""

from datetime import date

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.access import ADMINS, Scope, public_view, scope, staff_view
from app.core.ids import parse_id
from app.extensions import csrf
from app.htmx import render
from app.sms import bp, services
from app.sms.models import SMS_STATUS_LABELS, SmsStatus
from app.sms.providers.aliyun_receipts import parse_receipts
from app.sms.receipts import apply_receipts, receipt_token_ok
from app.sms.states import FAILED, TONES


@bp.get("/dev/outbox")
@public_view
def dev_outbox():
    """Messages sent through the console backend, newest first; in development (or debug) only."""
    shown = current_app.config.get("DEV_OUTBOX") or current_app.debug
    if not shown or current_app.config["SMS_BACKEND"] != "console":
        abort(404)
    return render_template("sms/dev_outbox.html", messages=services.list_messages(None, None))


def _answer(code: int, msg: str, status: int, **extra):
    # Aliyun's report push expects {"code": 0, "msg": "成功"}; anything else makes it retry.
    return jsonify(code=code, msg=msg, **extra), status


@bp.post("/sms/receipts")
@public_view
@csrf.exempt
def receipts():
    """Delivery receipts pushed by the provider, authenticated by the shared SMS_RECEIPT_TOKEN."""
    token = request.headers.get("X-Receipt-Token") or request.args.get("token")
    if not current_app.config.get("SMS_RECEIPT_TOKEN"):
        return _answer(1, "receipts are not enabled: SMS_RECEIPT_TOKEN is not set", 403)
    if not receipt_token_ok(token):
        return _answer(1, "missing or wrong receipt token", 403)
    try:
        parsed = parse_receipts(request.get_data(cache=False))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return _answer(1, f"malformed receipt body: {exc}", 400)
    report = apply_receipts(parsed)
    return _answer(0, "成功", 200, applied=report.applied, ignored=report.ignored)


STATUS_CHOICES = [(s.value, SMS_STATUS_LABELS[s]) for s in SmsStatus]


@bp.get("/staff/sms")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_messages():
    """Messages with status and failure reason, filtered by status and day; daily figures."""
    status, day_text = request.args.get("status", ""), request.args.get("date", "").strip()
    before = parse_id(request.args.get("before"))
    errors, day = {}, None
    if status and status not in {value for value, _ in STATUS_CHOICES}:
        errors["status"], status = "请选择列表中的状态", ""
    if day_text:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            errors["date"] = "日期格式应为 2026-11-23"
    messages = [] if errors else services.list_messages(status or None, day, before)
    return render("sms/admin_messages.html", "sms/_messages.html",
                  status=400 if errors else 200, messages=messages, errors=errors,
                  chosen=status, day_text=day_text, choices=STATUS_CHOICES, tones=TONES,
                  figures=services.daily_figures(), page_size=50)


@bp.get("/staff/sms/<int:message_id>")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_message(message_id: int):
    """One message's life: status, reason, attempts and its timeline; resend when failed."""
    return _message_page(message_id)


def _message_page(message_id: int, error: str | None = None, status: int = 200):
    message = services.message_by_id(message_id) or abort(404)
    return render_template("sms/admin_message.html", message=message, tones=TONES,
                           timeline=services.timeline(message.id), error=error,
                           labels=SMS_STATUS_LABELS,
                           can_resend=message.status in FAILED and scope().may_change(None),
                           failed=message.status in FAILED), status


@bp.post("/staff/sms/<int:message_id>/resend")
@staff_view(Scope.CITY, roles=ADMINS)
def admin_resend(message_id: int):
    """Put a failed message back in the queue as a new attempt; messages belong to no hall, so
    this is a city-wide admin's (a hall admin reads the log)."""
    services.message_by_id(message_id) or abort(404)
    scope().change(None)
    try:
        services.resend(message_id, current_user.id)
    except LookupError:
        abort(404)
    except services.SmsError as err:
        return _message_page(message_id, str(err), 409)
    flash("已重新排队发送,结果见下方记录", "info")
    return redirect(url_for("sms.admin_message", message_id=message_id), 303)
