"""Pages of the whole app rather than of one feature: home, 我的, halls, care mode, 工作台, PWA."""

from flask import Blueprint

bp = Blueprint("pages", __name__)
