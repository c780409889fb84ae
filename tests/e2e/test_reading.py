"""Done when (issue 20): at phone size, a blurred photo is warned about on the phone; an ID photo
whose number differs from the form shows the finding before submitting; replacing it clears the
finding; the clerk sees the hints beside the photos."""

import random

from applications.application_kit import photo
from e2e.browser import start_licence_change
from sqlalchemy import select

from app.applications.models import Application
from app.extensions import db
from app.reading.models import PhotoCheck
from bench.ocr_documents import Shot, id_card_front, photograph

TYPED = "15220119850312002X"
OTHER = "11010519491231002X"
MISMATCH = "照片中的身份证号与填写的不一致"


def _card(page, name):
    return page.locator("section.app-material", has=page.locator(f"h3:has-text('{name}')"))


def _id_photo(path, number, blur=0.5, seed=1):
    rng = random.Random(seed)
    card = id_card_front(rng, name="张三", number=number)
    path.write_bytes(photograph(card, Shot(tilt=4, skew=0.03, blur=blur, light=0.9, fill=0.8),
                                rng, edge=3000))
    return str(path)


def test_the_phone_warns_the_worker_reads_and_the_clerk_is_hinted(make_phone, tmp_path,
                                                                 run_jobs):
    blurred = _id_photo(tmp_path / "blurred.jpg", TYPED, blur=9)
    other = _id_photo(tmp_path / "other.jpg", OTHER, seed=2)
    mine = _id_photo(tmp_path / "mine.jpg", TYPED, seed=3)
    paper = tmp_path / "paper.jpg"
    paper.write_bytes(photo())
    citizen, clerk = make_phone(), make_phone()
    page = citizen.page
    start_licence_change(citizen, TYPED)

    # A blurred photo: the phone says so before anything is sent.
    card = _card(page, "法定代表人身份证")
    card.locator("input.app-file").nth(1).set_input_files(blurred)
    warning = card.locator(".app-check")
    warning.wait_for()
    assert "照片可能不清晰,建议重拍" in warning.inner_text()
    assert card.locator(".app-check-preview").is_visible()
    assert card.locator(".app-photo").count() == 0  # nothing sent yet
    # 重拍 opens the camera (album here) again; this time an ID card of someone else.
    with page.expect_file_chooser() as chooser:
        card.locator(".app-retake").click()
    chooser.value.set_files(other)
    card.locator(".app-photo").first.wait_for()
    run_jobs()
    # The worker reads it: the number differs from the form, said on the card before submitting.
    card.locator(".app-findings").wait_for(timeout=60000)
    assert MISMATCH in card.inner_text()
    assert OTHER not in page.content()

    # 重拍这张 replaces it; the new photo agrees and the finding is gone.
    card.locator(".app-replace input.app-file").set_input_files(mine)
    page.locator("text=已识别居民身份证,与填写的信息一致").wait_for(timeout=60000)
    card = _card(page, "法定代表人身份证")
    assert MISMATCH not in card.inner_text()
    assert card.locator(".app-photo").count() == 1

    for name in ("变更登记申请书", "股东会决议或决定"):
        other_card = _card(page, name)
        other_card.locator("input.app-file").nth(1).set_input_files(str(paper))
        other_card.locator(".app-photo").first.wait_for()
        run_jobs()
        other_card.locator(".app-photo-link img").first.wait_for(timeout=15000)
    page.click("a:has-text('下一步')")
    page.wait_for_url("**/check")
    page.click("button:has-text('提交预审')")
    page.wait_for_url("**done=1")
    number = page.locator(".receipt-number").inner_text().strip()
    row = db.session.scalar(select(Application).where(Application.number == number))
    db.session.expire_all()
    checks = db.session.scalars(select(PhotoCheck).where(PhotoCheck.kind == "id_card")
                                .order_by(PhotoCheck.id)).all()
    assert [c.phone_retakes for c in checks] == [1, 0]  # the 重拍 is recorded with the photo
    assert checks[0].status == "purged" and checks[1].fields["id_number"] == TYPED
    citizen.assert_clean()

    # The clerk sees the hints beside the photos, the number masked.
    c = clerk.page
    c.goto("/staff/login")
    c.fill("#username", "clerk")
    c.fill("#password", "clerk-demo-2026")
    with c.expect_navigation():
        c.click("button:has-text('登录')")
    c.goto("/review")
    c.locator(f"#queue-{row.id} button:has-text('认领审核')").click()
    c.wait_for_url(f"**/review/{row.id}")
    hint = _card(c, "法定代表人身份证").locator(".app-hint")
    assert "智能预审建议:合格" in hint.inner_text()
    assert "152201********002X" in hint.inner_text() and TYPED not in c.content()
    assert _card(c, "变更登记申请书").locator(".app-hint").count() == 0  # not a document kind
    clerk.assert_clean()
