"""进度查询: my matters, timelines, lookup by number + SMS code, short links, notifications."""

from flask import Blueprint

bp = Blueprint("progress", __name__)
