"""Issue 21, point 5: every citizen page measured in a browser at 320 px. In care mode no text
under 18 px, line height at least 1.3, main targets at least 60 x 60 px, contrast at least 4.5:1,
nothing sideways; outside care mode targets at least 44 x 44 px and nothing sideways. Three
browsers: care mode, the standard pages, and care mode inside WeChat (its user agent, no service
worker), where the pages offer their WeChat variants (保存为图片, the open-in-browser hint).

The pages are every page a citizen reaches: public guides, sign-in and lookup, and a signed-in
person's own records (我的, 我的办件, a booking's receipt and progress, an application in progress
and its progress, a rating to give and the rating given, the licences wallet and a licence, a
帮办 request, a question asked), the states a URL cannot reopen (the applicant form after a
failed submit, the sensitive-information consent, the thanks after a rating) and the record a
一号查询 opens."""

import time
from datetime import timedelta

import pytest
from applications.application_kit import VALID_ID, photo
from e2e.browser import accept_terms, agree_sensitive, code_from_outbox, fill_licence_change
from e2e.care_audit import audit
from e2e.test_phone_faults import _book_first_free_slot
from sqlalchemy import select

from app.auth.models import User
from app.booking.models import Booking
from app.catalog.models import Hall, ServiceItem
from app.core.timeutil import utcnow
from app.extensions import db

PUBLIC = ["/", "/services", "/services/SC-001", "/services/SC-001/checklist",
          "/services/SC-001/checklist?as=image", "/bundles/YJS-KFD", "/bundles/YJS-KFD/checklist",
          "/book", "/book/HJ-002", "/login", "/progress/lookup", "/halls", "/ratings",
          "/feedback/ask", "/offline", "/services/NO-SUCH-ITEM", "/terms", "/privacy",
          "/progress/find", "/care"]
NOT_FOUND = {"/services/NO-SUCH-ITEM"}  # the 404 page is measured too
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


def _own_matters(app) -> list[str]:
    """The demo citizen's licence and question, and a 帮办 request made for him now."""
    from app.feedback.models import Question
    from app.help import services as help_services
    from app.licences.models import Licence

    me = db.session.scalar(select(User).where(User.phone == "13800138000"))
    hall = db.session.scalar(select(Hall).where(Hall.name == "乌兰浩特市政务服务中心"))
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "HJ-002"))
    form = help_services.RequestForm(hall_id=str(hall.id), mode="phone", contact_name="张三",
                                     contact_phone="13800138000",
                                     details="想问迁户口要带哪些材料,请打电话给我。")
    with app.test_request_context():
        help_request = help_services.create(me, item, form)
    assert help_request is not None, form.errors
    licence = db.session.scalar(select(Licence.id).where(Licence.holder_user_id == me.id))
    question = db.session.scalar(select(Question.id).where(Question.citizen_id == me.id))
    return [f"/licences/{licence}", f"/feedback/questions/{question}",
            f"/progress/question/{question}", f"/help/{help_request.id}",
            f"/progress/help_request/{help_request.id}"]


def _check(page, path, care) -> list[str]:
    """The page's breaches, and any Python list printed on it."""
    found = [f"{path} {line}" for line in audit(page, care)]
    return found + ([f"{path} prints a Python list"] if "['" in page.content() else [])


def _visit(page, path, care) -> list[str]:
    """Open the page and measure it; a refusal or a missing page would measure nothing."""
    status = page.goto(path).status
    refused = [f"{path} answered {status}"] if status >= 400 and path not in NOT_FOUND else []
    return refused + _check(page, path, care)


def _records(app, phone, photo_path, care) -> tuple[list[str], list[str]]:
    """Sign in, book, start an application and be invited to rate: their pages, and the
    breaches of the states a URL cannot reopen (a failed submit, the consent before a photo)."""
    page = phone.page
    page.goto("/apply/SC-001")
    page.click("button:has-text('开始申请')")
    seen = len(phone.errors)
    page.click("button:has-text('下一步')")  # nothing filled in: the error summary
    page.wait_for_selector("#applicant-errors")
    phone.errors[seen:] = [e for e in phone.errors[seen:] if "status of 400" not in e]  # the point
    breaches = _check(page, "applicant (errors)", care)
    page.fill("#name", "张三")
    page.fill("#id_number", VALID_ID)
    fill_licence_change(page)
    page.click("button:has-text('下一步')")
    page.wait_for_url("**/materials")
    materials = page.url
    page.wait_for_selector("#sensitive-consent")
    breaches += _check(page, "materials (sensitive consent)", care)
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
            f"/ratings/{invite}", f"/ratings/{invite}/details?score=2"], breaches


def _rated(page, invite_path, care) -> list[str]:
    """Rate 满意 on the invitation: the thanks page with 还想说说?, then the rating given (its
    page in 我的评价, and the receipt the invitation opens once rated)."""
    page.goto(invite_path)
    page.click(".face-4")
    page.wait_for_url("**/thanks")
    breaches = _check(page, "rating thanks", care)
    thanks = page.url
    page.goto(thanks.removesuffix("/thanks"))
    breaches += _check(page, "rating given", care)
    page.goto(invite_path)
    page.wait_for_url(thanks)
    return breaches + _check(page, "rating given (invitation reopened)", care)


def _lookup_code_sent(phone, seconds: float = 30) -> str:
    """The lookup code, once its job has sent it (the sign-in code is in the outbox before it)."""
    outbox = phone.context.new_page()
    deadline = time.monotonic() + seconds
    while True:
        outbox.goto("/dev/outbox")
        text = outbox.locator(".sms-text").first.inner_text()
        if "查询办件进度" in text or time.monotonic() > deadline:
            outbox.close()
            return "".join(ch for ch in text.split("验证码", 1)[1] if ch.isdigit())[:6]
        outbox.wait_for_timeout(200)


def _looked_up(make_phone, booking_path, care, wechat) -> list[str]:
    """一号查询 of the booking by someone not signed in: the code page and the record it opens."""
    db.session.remove()
    booking = db.session.get(Booking, int(booking_path.rsplit("/", 1)[1]))
    stranger = make_phone(care=care, wechat=wechat)
    page = stranger.page
    page.set_viewport_size({"width": 320, "height": 720})
    page.goto("/progress/lookup")
    page.fill("#number", booking.number)
    page.click("button:has-text('获取验证码')")
    page.wait_for_selector("#code-status:has-text('验证码已发送')")
    page.goto("/progress/lookup/code")  # the two-step form's page, as without JavaScript
    breaches = _check(page, "/progress/lookup/code", care)
    page.fill("#code", _lookup_code_sent(stranger))
    page.click("button:has-text('查看进度')")
    page.wait_for_url(f"**/progress/booking/{booking.id}")
    return breaches + _check(page, "lookup result", care) + stranger.errors


MODES = {"care": (True, False), "plain": (False, False), "wechat-care": (True, True)}


@pytest.mark.parametrize("mode", MODES)
def test_every_citizen_page_at_320_px(app, make_phone, mode, tmp_path, monkeypatch):
    # The 一号查询 at the end sends its code to the phone that signed in a few minutes earlier:
    # one code a minute per phone would hold it back on a fast run.
    monkeypatch.setitem(app.config, "SMS_LIMITS_PER_PHONE", "10/minute")
    care, wechat = MODES[mode]
    phone = make_phone(care=care, wechat=wechat)
    phone.page.set_viewport_size({"width": 320, "height": 720})
    breaches = []
    for path in PUBLIC:
        breaches += _visit(phone.page, path, care)
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
    records, breaches_in_place = _records(app, phone, doc, care)
    breaches += breaches_in_place
    for path in SIGNED_IN + records + _own_matters(app):
        breaches += _visit(phone.page, path, care)
    breaches += _rated(phone.page, records[6], care)
    breaches += _looked_up(make_phone, records[3], care, wechat)
    assert breaches == [], "\n".join(breaches)
    errors = [e for e in phone.errors if "status of 404" not in e]
    assert errors == [], errors
