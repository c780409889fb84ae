"""Photo pre-review (拍照预审): applications, photo uploads, clerk review on a phone."""

from flask import Blueprint

bp = Blueprint("applications", __name__)

from app.applications import matters  # noqa: E402, F401

matters.register()
