"""Cross-cutting pieces: pages shared by all, audit, time, privacy, security headers."""

from flask import Blueprint

bp = Blueprint("core", __name__)
