"""The service catalog: guides, checklists, bundles, search, and its admin pages."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)

from app.catalog import cache  # noqa: E402

bp.record_once(lambda state: cache.init_app(state.app))
