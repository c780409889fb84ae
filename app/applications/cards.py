"""What the material cards of a page show beside the records: the findings, hints and offers
read from their photos, and the licences a card may offer (免提交). Worked out by the route, so
the templates only look them up."""

from app.applications.models import Application
from app.licences import services as licences
from app.reading import services as reading


def card_context(row: Application, materials) -> dict:
    """The context of these materials' cards (templates/applications/_material.html)."""
    return {"readings": reading.page_readings(row, materials),
            "licence_offers": licences.card_offers(row, materials)}
