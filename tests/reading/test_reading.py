"""智能预审 end to end on the test client: findings, masking, retention, the setting, hints."""

import io
import logging
import re
import threading
from datetime import timedelta

import pytest
from html_kit import has, one, text_of, texts
from reading.conftest import ID, NAME, OTHER, id_photo
from sqlalchemy import select

from app.applications import deadlines, decisions
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import JobStatus, OutboxJob
from app.reading import engine, services
from app.reading.models import PhotoCheck, ReadingStatus

MISMATCH = "照片中的身份证号与填写的不一致"


def checks() -> list[PhotoCheck]:
    db.session.expire_all()
    return db.session.scalars(select(PhotoCheck).order_by(PhotoCheck.id)).all()


def test_a_different_id_number_is_found_before_submitting_and_masked(world):
    row = world.draft()
    world.upload_id(row, id_photo(number=OTHER))
    [check] = checks()
    assert check.status == ReadingStatus.DONE and check.kind == "id_card"
    assert check.fields == {"name": NAME, "id_number": OTHER}
    card = world.card(row)
    assert MISMATCH in card
    assert "重拍这张" in card
    assert OTHER not in card and ID not in card  # no full number on the page


def test_a_matching_photo_says_so_and_suggests_ok(world):
    row = world.draft()
    world.upload_id(row, id_photo())
    [check] = checks()
    assert check.fields == {"name": NAME, "id_number": ID}
    card = world.card(row)
    assert "已识别居民身份证,与填写的信息一致" in card and MISMATCH not in card
    upload = check.upload
    assert services.photo_hint(upload, upload.material.application) == ("ok", None)


def test_correcting_the_form_clears_the_finding_without_reading_again(world):
    row = world.draft(id_number=OTHER)
    world.upload_id(row, id_photo())
    assert MISMATCH in world.card(row)
    world.client.post(f"/applications/{row.id}/applicant", data={
        "name": NAME, "id_number": ID, "phone": "13800138000"})
    assert MISMATCH not in world.card(row)


def test_replacing_the_photo_clears_the_finding_and_forgets_the_old_reading(world):
    row = world.draft()
    world.upload_id(row, id_photo(number=OTHER))
    [old] = checks()
    world.upload_id(row, id_photo(seed=2), replaces=str(old.upload_id))
    first, second = checks()
    assert first.status == ReadingStatus.PURGED and first.fields is None
    assert first.upload.removed_at is not None and first.upload.image_key is None
    assert second.fields["id_number"] == ID
    card = world.card(row)
    assert MISMATCH not in card and "已识别居民身份证" in card


def test_a_photo_without_text_is_flagged_unreadable(world):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1200, 900), (238, 236, 230)).save(buf, "JPEG")
    row = world.draft()
    world.upload_id(row, buf.getvalue())
    assert "未能识别出文字,照片可能不清晰" in world.card(row)


def test_another_document_is_flagged(world):
    import random

    from bench.ocr_documents import Shot, business_licence, photograph

    rng = random.Random(5)
    row = world.draft()
    world.upload_id(row, photograph(business_licence(rng), Shot(tilt=2), rng))
    assert "这张照片看起来不是居民身份证" in world.card(row)


def test_materials_that_are_no_document_are_not_read(world):
    from applications.application_kit import photo

    row = world.draft()
    world.upload(row, 0, photo())
    world.settle()
    [check] = checks()
    assert check.status == ReadingStatus.NONE and check.kind is None
    assert db.session.scalar(select(OutboxJob).where(OutboxJob.name == services.READ_JOB)) is None


def test_the_setting_turns_reading_off(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_READING", False)
    row = world.draft()
    world.upload_id(row, id_photo(number=OTHER))
    [check] = checks()
    assert check.status == ReadingStatus.OFF and check.fields is None
    assert db.session.scalar(select(OutboxJob).where(OutboxJob.name == services.READ_JOB)) is None
    card = world.card(row)
    assert MISMATCH not in card and "识别中" not in card and not has(card, "[hx-get]")


def test_a_reading_turned_off_after_it_was_queued_does_nothing(world, app, monkeypatch):
    monkeypatch.setattr(services, "chain", lambda upload_id: None)  # queued, not yet run
    row = world.draft()
    world.upload_id(row, id_photo())
    [check] = checks()
    assert check.status == ReadingStatus.PENDING
    monkeypatch.setattr(engine, "read_lines", lambda *a, **k: pytest.fail("must not read"))
    monkeypatch.setitem(app.config, "PHOTO_READING", False)
    assert services.read_photo(check.upload_id) == ReadingStatus.OFF
    assert checks()[0].fields is None


def test_the_upload_answers_before_the_reading_is_done(world, app, monkeypatch):
    """Inline jobs: the card comes back with the photo while the reading thread still works."""
    if app.config.get("REDIS_URL"):
        pytest.skip("with Redis the reading runs in the worker; run_jobs() stands in for it")
    release, started = threading.Event(), threading.Event()
    real = engine.read_lines

    def slow(*args, **kwargs):
        started.set()
        assert release.wait(30), "the test never released the reading"
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "read_lines", slow)
    row = world.draft()
    material = row.materials[1]
    response = world.client.post(
        f"/applications/{row.id}/materials/{material.id}/photos",
        data={"photo": (io.BytesIO(id_photo(number=OTHER)), "id.jpg")},
        content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert response.status_code == 200  # answered while the reading waits on `release`
    assert started.wait(30)
    [check] = checks()
    assert check.status == ReadingStatus.PENDING
    poll = world.client.get(f"/applications/photos/{check.upload_id}/status",
                            headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "识别中" in text_of(poll, "figure.app-photo .app-reading")
    assert has(poll, "figure.app-photo[hx-get]")
    release.set()
    world.settle()
    job = db.session.scalar(select(OutboxJob).where(OutboxJob.name == services.READ_JOB))
    assert job.status == JobStatus.DONE
    done = world.client.get(f"/applications/photos/{check.upload_id}/status",
                            headers={"HX-Request": "true"})
    assert done.headers["HX-Retarget"] == f"#material-{material.id}"
    assert MISMATCH in done.get_data(as_text=True)


def test_reading_twice_changes_nothing(world):
    row = world.draft()
    world.upload_id(row, id_photo())
    [check] = checks()
    assert services.read_photo(check.upload_id) == "skipped"
    assert checks()[0].read_at == check.read_at


def test_the_ocr_text_never_reaches_the_log(world, caplog):
    caplog.set_level(logging.DEBUG)
    row = world.draft()
    world.upload_id(row, id_photo(number=OTHER))
    assert checks()[0].fields["id_number"] == OTHER
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert OTHER not in logged and OTHER[:6] + OTHER[6:14] not in logged and NAME not in logged


def test_retention_deletes_what_was_read_with_the_photo(world, client):
    row = world.draft()
    world.upload_id(row, id_photo())
    world.upload(row, 0, id_photo(seed=3))
    assert world.client.post(f"/applications/{row.id}/submit").status_code == 303
    world.as_clerk()
    world.client.post(f"/review/{row.id}/claim")
    data = {f"verdict-{m.id}": "ok" for m in row.materials[:2]}
    data[f"verdict-{row.materials[2].id}"] = "missing"
    data.update(decision="accept_missing", due=decisions.max_due(row).isoformat())
    assert world.client.post(f"/review/{row.id}/decide", data=data).status_code == 303
    world.client.post(f"/review/{row.id}/supplied")
    read = [c for c in checks() if c.kind]
    assert read and read[0].fields
    deadlines.housekeeping(utcnow() + timedelta(days=181))
    for check in checks():
        assert check.fields is None and check.issues is None
        assert check.status in (ReadingStatus.PURGED, ReadingStatus.NONE)
    assert [c.verdict for c in checks() if c.kind] == ["ok"]  # the figures keep their counts


def test_nothing_is_filled_without_a_tap_and_a_tap_fills_the_empty_fields(world):
    row = world.draft()
    row.applicant_name = row.id_number = None
    db.session.commit()
    world.upload_id(row, id_photo())
    db.session.refresh(row)
    assert row.id_number is None and row.applicant_name is None
    card = world.card(row)
    assert f"从照片中识别:{NAME} 152201********002X,是否填入?" in card
    page = world.client.get(f"/applications/{row.id}/applicant").get_data(as_text=True)
    offer = one(page, "form.app-offer")
    assert "152201********002X,是否填入?" in offer.get_text()
    assert offer["action"].startswith(f"/applications/{row.id}/fill")
    db.session.refresh(row)
    assert row.id_number is None
    material = row.materials[1]
    response = world.client.post(f"/applications/{row.id}/materials/{material.id}/fill",
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200
    db.session.refresh(row)
    assert (row.applicant_name, row.id_number) == (NAME, ID)
    assert "是否填入" not in response.get_data(as_text=True)


def test_a_filled_field_is_never_overwritten(world):
    row = world.draft(id_number=OTHER)
    world.upload_id(row, id_photo())
    response = world.client.post(f"/applications/{row.id}/fill")
    assert response.status_code == 303
    db.session.refresh(row)
    assert row.id_number == OTHER


def test_the_phone_check_and_the_choice_are_kept_with_the_photo_and_shown_to_the_clerk(world):
    row = world.draft()
    world.upload_id(row, id_photo(), check_issues="dark,bogus", check_kept="1",
                    check_retakes="2", check_brightness="41", check_sharpness="12.5")
    [check] = checks()
    assert (check.phone_issues, check.phone_kept, check.phone_retakes) == ("dark", True, 2)
    assert (check.brightness, check.sharpness) == (41, 12.5)
    world.upload(row, 0, id_photo(seed=3))
    assert world.client.post(f"/applications/{row.id}/submit").status_code == 303
    world.as_clerk()
    page = world.client.get(f"/review/{row.id}").get_data(as_text=True)
    assert "拍照时提示“照片偏暗”,群众选择仍然使用" in page


def test_without_javascript_nothing_is_recorded(world):
    row = world.draft()
    world.upload_id(row, id_photo())
    [check] = checks()
    assert check.phone_issues is None and check.phone_kept is None and check.brightness is None


def test_the_clerk_sees_hints_masked_and_the_figures_count_agreement(world, auth):
    row = world.draft()
    world.upload_id(row, id_photo(number=OTHER))
    world.upload(row, 0, id_photo(seed=3))
    assert world.client.post(f"/applications/{row.id}/submit").status_code == 303
    world.as_clerk()
    world.client.post(f"/review/{row.id}/claim")
    page = world.client.get(f"/review/{row.id}").get_data(as_text=True)
    assert MISMATCH in page
    assert "智能预审建议:需补正(信息与申请人不一致)" in texts(page, ".app-hint-verdict")[0]
    assert texts(page, ".app-hint-verdict strong")[0] == "需补正"
    assert "110105********002X" in page and OTHER not in page
    m = row.materials
    data = {f"verdict-{m[0].id}": "ok", f"verdict-{m[1].id}": "fix", f"fix-{m[1].id}": "mismatch",
            f"verdict-{m[2].id}": "missing", "decision": "supplement"}
    assert world.client.post(f"/review/{row.id}/decide", data=data).status_code == 303
    read = [c for c in checks() if c.kind]
    assert [(c.hint, c.verdict) for c in read] == [("fix", "fix")]
    figures = services.agreement(row.hall_id, utcnow() - timedelta(days=1),
                                 utcnow() + timedelta(days=1))
    assert (figures["hinted"], figures["agreed"], figures["rate"]) == (1, 1, 100.0)
    assert services.agreement(world.other_hall.id, utcnow() - timedelta(days=1),
                              utcnow() + timedelta(days=1))["hinted"] == 0


def test_a_clerk_of_another_hall_sees_no_reading(world):
    row = world.draft()
    world.upload_id(row, id_photo())
    upload_id = checks()[0].upload_id
    world.upload(row, 0, id_photo(seed=3))
    world.client.post(f"/applications/{row.id}/submit")
    world.as_clerk(world.far_clerk)
    assert world.client.get(f"/applications/photos/{upload_id}/status").status_code == 403
    assert world.client.get(f"/review/{row.id}").status_code == 403


def test_someone_else_cannot_fill_from_my_photos(world):
    row = world.draft()
    world.upload_id(row, id_photo())
    world.as_citizen("13900139000")
    response = world.client.post(f"/applications/{row.id}/fill")
    assert response.status_code == 404


def test_the_id_number_shown_anywhere_is_masked(world):
    row = world.draft(id_number=OTHER)
    world.upload_id(row, id_photo())
    pages = [world.card(row), world.client.get(f"/applications/{row.id}/check").get_data(
        as_text=True)]
    for page in pages:
        assert ID not in page and not re.search(r"\d{17}[\dX]", page)
