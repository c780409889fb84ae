"""What the templates ask of 智能预审: findings, hints and offers for a photo or a material.

The pages themselves are the applications feature's (upload card, applicant form, review page);
its routes call app.reading.services, and templates/reading/ holds the fragments they include.
"""

from app.applications.states import FIX_REASONS
from app.reading import bp, kinds, services
from app.reading.models import ReadingStatus


@bp.app_context_processor
def _reading_helpers():
    return {"photo_findings": services.photo_findings, "photo_hint": services.photo_hint,
            "material_offers": services.material_offers, "reading_offers": services.offers,
            "reading_gave_up": services.give_up, "reading_status": ReadingStatus,
            "phone_issue_labels": services.PHONE_ISSUES, "fix_reason_labels": FIX_REASONS,
            "document_kinds": kinds.choices()}
