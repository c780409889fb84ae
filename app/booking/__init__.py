"""掌上预约: slot rules and the hall calendar, booking, check-in, the queue and the hall display."""

from flask import Blueprint

bp = Blueprint("booking", __name__)

from app.booking import (  # noqa: E402,F401
    cli,
    matters,  # noqa: E402
    routes,
)

matters.register()
