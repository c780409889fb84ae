"""智能预审 for the templates, and the catalog's example photos (示例图).

The pages themselves are the applications feature's (upload card, applicant form, review page);
its routes call app.reading.services, and templates/reading/ holds the pieces they include.
"""

from flask import Response, abort

from app.applications.states import FIX_REASONS
from app.catalog.services import material_by_id
from app.core.access import public_view
from app.reading import bp, kinds, services
from app.uploads.storage import StorageUnavailable, get_storage


@bp.record_once
def _template_helpers(state) -> None:
    """Labels, as globals so the macros in templates/reading/ see them without `with context`
    (what a page's photos show from their reading is the route's: services.page_readings)."""
    state.app.jinja_env.globals.update(
        phone_issue_words=services.PHONE_ISSUES, fix_reason_labels=FIX_REASONS,
        document_kinds=kinds.choices())


@bp.get("/catalog/materials/<int:material_id>/example/<any(image, thumb):kind>")
@public_view
def example(material_id: int, kind: str):
    """A material's example photo: public, like the guide it illustrates."""
    material = material_by_id(material_id)
    key = material and (material.example_thumb_key if kind == "thumb" else material.example_key)
    if not key:
        abort(404)
    try:
        data = get_storage().open(key)
    except FileNotFoundError:
        abort(404)
    except StorageUnavailable:
        abort(503)
    response = Response(data, mimetype="image/jpeg")
    # Keys change when the example does, so the URL's answer may be kept a day.
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
