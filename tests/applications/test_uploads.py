"""Upload safety: bad files get a Chinese message beside the material and lose nothing."""

import io
from datetime import timedelta

import pillow_heif
import pytest
from applications.application_kit import photo
from html_kit import attrs, errors, has, text_of
from PIL import Image

from app.applications import photos
from app.applications.models import Upload
from app.extensions import db
from app.uploads.storage import get_storage

FORMATS = "只能上传 JPG、PNG、WebP 或 HEIC 格式的照片"


def _kept(world, row, before):
    """The photo uploaded before the bad one is still there and still shown."""
    assert [u.id for u in world.uploads(row)] == before
    page = world.client.get(f"/applications/{row.id}/materials").get_data(as_text=True)
    assert has(page, f"figure.app-photo#photo-{before[0]} img")


@pytest.fixture
def row(world):
    row = world.draft()
    assert world.upload(row, 0, photo()).status_code == 200
    return row


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (8000, 7000)).save(buf, "PNG")  # 56 megapixels, a few kilobytes
    return buf.getvalue()


@pytest.mark.parametrize("data, name, message", [
    (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "scan.jpg", FORMATS),
    (photo()[:6000], "cut.jpg", None),
    (_bomb(), "bomb.png", "照片分辨率过大"),
    (b"", "empty.jpg", "请选择照片"),
], ids=["pdf-renamed", "truncated", "bomb", "empty"])
def test_bad_files_are_refused_beside_the_material(world, row, data, name, message):
    before = [u.id for u in world.uploads(row)]
    response = world.upload(row, 1, data, name)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    card = f"section.app-material#material-{row.materials[1].id}"
    assert has(page, f"{card} .field-error")
    if message:
        assert message in text_of(page, card)
    _kept(world, row, before)


def test_a_30_mb_file_is_refused_with_a_message(world, row):
    before = [u.id for u in world.uploads(row)]
    response = world.upload(row, 1, b"\xff\xd8\xff" + bytes(30 * 1024 * 1024), "big.jpg")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    card = f"section.app-material#material-{row.materials[1].id}"
    assert "照片不能超过 10MB" in text_of(page, card)
    _kept(world, row, before)


def test_a_script_appended_never_reaches_a_served_copy(world, row):
    response = world.upload(row, 1, photo() + b"<script>alert(1)</script>", "x.jpg")
    assert response.status_code == 200  # the photo is good: it is re-encoded, the tail dropped
    upload = world.uploads(row)[-1]
    for kind in ("image", "thumb"):
        served = world.client.get(f"/applications/photos/{upload.id}/{kind}")
        assert served.status_code == 200 and b"<script" not in served.data


def test_heic_from_an_iphone_is_accepted(world, row):
    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.open(io.BytesIO(photo())).save(buf, "HEIF")
    response = world.upload(row, 1, buf.getvalue(), "IMG_0001.HEIC")
    assert response.status_code == 200
    upload = world.uploads(row)[-1]
    assert upload.format.upper() in ("HEIC", "HEIF") and upload.status == "ready"


def test_no_gps_and_no_exif_in_any_served_copy(world, row):
    upload = world.uploads(row)[0]
    assert upload.status == "ready" and upload.original_key is None  # the original is gone
    for kind in ("image", "thumb"):
        served = world.client.get(f"/applications/photos/{upload.id}/{kind}")
        assert served.status_code == 200
        assert served.headers["Cache-Control"].startswith("private")
        image = Image.open(io.BytesIO(served.data))
        assert image.format == "JPEG"
        assert not image.getexif() and "exif" not in image.info
        assert b"Exif" not in served.data and b"TestPhone" not in served.data
    # Orientation 6 was applied: the landscape original became portrait.
    image = Image.open(io.BytesIO(world.client.get(
        f"/applications/photos/{upload.id}/image").data))
    assert image.height > image.width and max(image.size) <= 1600


def test_the_original_is_never_served(world, row):
    upload = world.uploads(row)[0]
    assert world.client.get(f"/applications/photos/{upload.id}/original").status_code == 404


def test_compression_runs_twice_safely(world, row):
    upload = world.uploads(row)[0]
    keys = (upload.image_key, upload.thumb_key)
    assert photos.compress_photo(upload.id) == "skipped"
    db.session.refresh(upload)
    assert (upload.image_key, upload.thumb_key) == keys
    assert get_storage().exists(keys[0]) and get_storage().exists(keys[1])


def test_status_fragment_polls_until_ready(world, row, app):
    storage = get_storage()
    pending = Upload(material=row.materials[1], citizen_id=row.citizen_id,
                     original_key=storage.save(photo()))
    db.session.add(pending)
    db.session.commit()
    fragment = world.client.get(f"/applications/photos/{pending.id}/status").get_data(as_text=True)
    assert attrs(fragment, "figure.app-photo")["hx-trigger"] == "load delay:1s"
    assert text_of(fragment, "figure.app-photo .app-photo-wait") == "正在处理照片…"
    pending.created_at -= timedelta(seconds=30)  # a busy worker: the page asks less often
    db.session.commit()
    fragment = world.client.get(f"/applications/photos/{pending.id}/status").get_data(as_text=True)
    assert attrs(fragment, "figure.app-photo")["hx-trigger"] == "load delay:5s"
    assert photos.compress_photo(pending.id) == "ready"
    fragment = world.client.get(f"/applications/photos/{pending.id}/status").get_data(as_text=True)
    assert "hx-trigger" not in attrs(fragment, "figure.app-photo")
    assert has(fragment, "figure.app-photo img")


def test_photo_cap_per_application(world, row, app):
    app.config["APPLICATION_MAX_PHOTOS"] = 1
    try:
        response = world.upload(row, 1, photo())
    finally:
        app.config["APPLICATION_MAX_PHOTOS"] = 30
    assert response.status_code == 409 and "最多上传 1 张照片" in errors(response)


def test_removing_a_photo_deletes_its_files(world, row):
    upload = world.uploads(row)[0]
    keys = (upload.image_key, upload.thumb_key)
    response = world.client.post(f"/applications/{row.id}/photos/{upload.id}/remove")
    assert response.status_code == 200
    assert not any(get_storage().exists(k) for k in keys)
    assert world.client.get(f"/applications/photos/{upload.id}/thumb").status_code == 404


def test_compression_of_an_unreadable_original_fails_the_photo_with_its_reason(world, row):
    """The worker refuses what it cannot read: the photo is failed, with the reason the card
    shows, and a second run does nothing more."""
    storage = get_storage()
    broken = Upload(material=row.materials[1], citizen_id=row.citizen_id,
                    original_key=storage.save(b"\xff\xd8\xff\xe0 not the rest of a JPEG"))
    db.session.add(broken)
    db.session.commit()
    upload_id = broken.id
    assert photos.compress_photo(upload_id) == "failed"
    db.session.expire_all()
    failed = db.session.get(Upload, upload_id)
    assert failed.status == "failed" and failed.error and failed.image_key is None
    assert photos.compress_photo(upload_id) == "skipped"
