"""The service catalog: guides, checklists, bundles, search, and its admin pages."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)

from app.catalog import admin, admin_bundles, admin_transfer, cache, places, routes  # noqa: E402,F401

bp.record_once(lambda state: cache.init_app(state.app))
