"""htmx helpers: partial only when htmx asked and it is not boosted or a history restore."""

from flask import make_response, render_template

from app.extensions import htmx_ext as htmx


def is_partial() -> bool:
    """True when the response should be a fragment rather than a full page."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """Render a full page, or just its fragment template for an htmx request."""
    name = fragment if fragment and is_partial() else template
    response = make_response(render_template(name, **context), status)
    response.vary.add("HX-Request")
    return response

