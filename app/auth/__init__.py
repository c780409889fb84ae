"""Sign-in: citizens by phone and SMS code, staff by username and password."""

from flask import Blueprint

bp = Blueprint("auth", __name__, cli_group="staff")  # `flask staff ...` (app/auth/cli.py)

from app.auth import sessions  # noqa: E402

bp.after_app_request(sessions.forget_dead_sign_in)
