"""办不成事 reports and 我要问 questions: what a guide or a window left open."""

from flask import Blueprint

bp = Blueprint("feedback", __name__)

from app.feedback import matters  # noqa: E402, F401

matters.register()
