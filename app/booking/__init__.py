"""掌上预约: slot rules and the hall calendar, booking, check-in, the queue and the hall display."""

from flask import Blueprint

bp = Blueprint("booking", __name__)

from app.booking import matters  # noqa: E402

matters.register()
