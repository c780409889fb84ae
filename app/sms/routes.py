"""The development outbox: what the console backend 'sent'."""

from flask import abort, current_app, render_template
from sqlalchemy import select

from app.extensions import db
from app.sms import bp
from app.sms.models import SmsMessage


@bp.get("/dev/outbox")
def dev_outbox():
    """Messages sent through the console backend, newest first; debug only."""
    if not current_app.debug or current_app.config["SMS_BACKEND"] != "console":
        abort(404)
    messages = db.session.scalars(
        select(SmsMessage).order_by(SmsMessage.id.desc()).limit(50)).all()
    return render_template("sms/dev_outbox.html", messages=messages)
