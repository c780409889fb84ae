"""axe-core on the pages bench/lighthouse.sh scores: home, a guide, booking, upload and a timeline.

Fails on any serious or critical violation, at a phone's viewport, in normal and care mode.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from e2e.browser import start_licence_change
from e2e.test_booking import _book_first_free_slot
from sqlalchemy import select

from app.booking.models import Booking
from app.extensions import db

BLOCKING = {"serious", "critical"}


def _blocking(page) -> list[str]:
    results = Axe().run(page, options={"resultTypes": ["violations"]}).response
    return [f"{v['id']} ({v['impact']}): {v['help']} -> "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:3])
            for v in results["violations"] if v["impact"] in BLOCKING]


def _pages(phone) -> dict[str, str]:
    """Sign in, book a slot and start an application; the paths of the five pages."""
    page = phone.page
    upload = start_licence_change(phone)
    number = _book_first_free_slot(page)
    booking = db.session.scalar(select(Booking).where(Booking.number == number))
    return {"home": "/", "guide": "/services/SC-003", "booking": "/book/HJ-002",
            "upload": upload, "timeline": f"/progress/booking/{booking.id}"}


@pytest.mark.parametrize("care", [False, True], ids=["normal", "care"])
def test_no_serious_or_critical_violations(make_phone, care):
    phone = make_phone(care=care)
    found = {}
    for name, path in _pages(phone).items():
        phone.page.goto(path)
        phone.page.wait_for_load_state("networkidle")
        if problems := _blocking(phone.page):
            found[name] = problems
    assert found == {}
    phone.assert_clean()


def test_axe_finds_a_planted_violation(phone):
    """The check itself works: an unlabeled input and an image without alt text are caught."""
    page = phone.page
    page.goto("/")
    page.evaluate("""() => {
        const i = document.createElement('input'); document.querySelector('main').append(i);
        const img = document.createElement('img'); img.src = '/static/icons/icon-192.png';
        document.querySelector('main').append(img);
    }""")
    problems = " ".join(_blocking(page))
    assert "image-alt" in problems and "label" in problems
