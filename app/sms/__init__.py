"""SMS: templates, message records, sending jobs and the staff pages."""

from flask import Blueprint

bp = Blueprint("sms", __name__)

from app.sms import routes  # noqa: E402,F401
