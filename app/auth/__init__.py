"""Sign-in: citizens by phone and SMS code, staff by username and password."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import routes  # noqa: E402,F401
