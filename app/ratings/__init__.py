"""好差评: rating served visits and finished matters, putting bad ratings right, and the figures."""

from flask import Blueprint

bp = Blueprint("ratings", __name__)
