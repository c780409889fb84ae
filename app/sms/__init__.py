"""SMS: templates, message records, sending jobs and the staff pages."""

from flask import Blueprint

bp = Blueprint("sms", __name__)
