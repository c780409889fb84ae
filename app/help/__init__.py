"""帮办代办 (assisted handling): citizens ask for help, named helpers handle it on their behalf."""

from flask import Blueprint

bp = Blueprint("help", __name__)

from app.help import matters  # noqa: E402, F401

matters.register()
