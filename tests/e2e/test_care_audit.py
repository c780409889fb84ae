"""Issue 21, point 5: every citizen page measured in a browser at 320 px. In care mode no text
under 18 px, line height at least 1.3, main targets at least 60 x 60 px, contrast at least 4.5:1,
nothing sideways; outside care mode targets at least 44 x 44 px and nothing sideways.

The pages are every page a citizen reaches: public guides, sign-in and lookup, and a signed-in
person's own records (a booking, an application in progress, a rating to give)."""

from datetime import timedelta

import pytest
from applications.application_kit import VALID_ID, photo
from e2e.browser import accept_terms, agree_sensitive, code_from_outbox, fill_licence_change
from e2e.care_audit import audit
from e2e.test_phone_faults import _book_first_free_slot
from sqlalchemy import select

from app.auth.models import User
from app.catalog.models import Hall, ServiceItem
from app.core.timeutil import utcnow
from app.extensions import db

PUBLIC = ["/", "/services", "/services/SC-001", "/services/SC-001/checklist",
          "/services/SC-001/checklist?as=image", "/bundles/YJS-KFD", "/bundles/YJS-KFD/checklist",
          "/book", "/book/HJ-002", "/login", "/progress/lookup", "/halls", "/ratings",
          "/feedback/ask", "/offline", "/services/NO-SUCH-ITEM", "/terms", "/privacy",
          "/progress/find", "/care"]
SIGNED_IN = ["/me", "/progress/mine", "/bookings", "/applications", "/ratings/mine", "/help/new",
             "/help/mine", "/feedback/report", "/feedback/ask/SC-001", "/dev/outbox",
             "/licences"]


def _invite(app) -> int:
    from app.ratings import services

    hall = db.session.scalar(select(Hall).where(Hall.name == "乌兰浩特市政务服务中心"))
    me = db.session.scalar(select(User).where(User.phone == "13800138000"))
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "HJ-002"))
    with app.test_request_context():
        invite = services.invite(channel="onsite", entity="booking", entity_id=525252,
                                 citizen_id=me.id, served_at=utcnow() - timedelta(minutes=10),
                                 hall_id=hall.id, item_id=item.id, window_id=hall.windows[0].id)
        db.session.commit()
    return invite.id


def _check(page, path, care) -> list[str]:
    """The page's breaches, and any Python list printed on it."""
    found = [f"{path} {line}" for line in audit(page, care)]
    return found + ([f"{path} prints a Python list"] if "['" in page.content() else [])


def _records(app, phone, photo_path) -> list[str]:
    """Sign in, book, start an application and be invited to rate: their pages."""
    page = phone.page
    page.goto("/apply/SC-001")
    page.click("button:has-text('开始申请')")
    page.fill("#name", "张三")
    page.fill("#id_number", VALID_ID)
    fill_licence_change(page)
    page.click("button:has-text('下一步')")
    page.wait_for_url("**/materials")
    materials = page.url
    agree_sensitive(page)  # asked before the first photo
    page.locator("input.app-file").nth(1).set_input_files(str(photo_path))
    page.locator(".app-photo").first.wait_for()
    app_path = materials.split("://", 1)[1].split("/", 1)[1]
    _book_first_free_slot(page)
    booking = page.url.split("://", 1)[1].split("/", 1)[1]
    booking_id = booking.rsplit("/", 1)[1]
    invite = _invite(app)
    base = app_path.rsplit("/", 1)[0]
    return [f"/{app_path}", f"/{base}/applicant", f"/{base}/check", f"/{booking}",
            f"/progress/booking/{booking_id}", f"/bookings/{booking_id}/cancel",
            f"/ratings/{invite}", f"/ratings/{invite}/details?score=2"]


@pytest.mark.parametrize("care", [True, False])
def test_every_citizen_page_at_320_px(app, make_phone, care, tmp_path):
    phone = make_phone(care=care)
    phone.page.set_viewport_size({"width": 320, "height": 720})
    breaches = []
    for path in PUBLIC:
        phone.page.goto(path)
        breaches += _check(phone.page, path, care)
    phone.page.goto("/login?next=/me")  # one screen: the code sent, its button counting down
    phone.page.fill("#phone", "13800138000")
    phone.page.click("text=获取验证码")
    phone.page.wait_for_selector("#code-status:has-text('验证码已发送')")
    breaches += _check(phone.page, "/login (code sent)", care)
    phone.page.fill("#code", code_from_outbox(phone))
    accept_terms(phone.page)
    phone.page.click("button:has-text('登录')")
    phone.page.wait_for_url("**/me")
    doc = tmp_path / "doc.jpg"
    doc.write_bytes(photo())
    for path in SIGNED_IN + _records(app, phone, doc):
        phone.page.goto(path)
        breaches += _check(phone.page, path, care)
    assert breaches == [], "\n".join(breaches)
    errors = [e for e in phone.errors if "status of 404" not in e]
    assert errors == [], errors
