"""PHOTO_STORAGE=s3: the whole photo journey on a local S3-compatible server (tests/s3_kit.py).

Upload → compression by the worker → submission → review → reuse, with the same access checks as on
the disk, served by proxy and by short-lived presigned URL (S3_SERVE=redirect).
"""

import io
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import requests
from applications.application_kit import photo
from html_kit import text_of
from PIL import Image
from time_machine import travel

from app.applications import deadlines, decisions
from app.applications.states import Status
from app.core.timeutil import utcnow
from app.extensions import db
from app.uploads.storage import S3Storage, get_storage
from factories import item


@pytest.fixture
def bucket(app, s3_server):
    """Point the app at a fresh bucket for this test; the disk must stay untouched."""
    name = s3_server.new_bucket(f"palm-{secrets.token_hex(6)}")
    settings = s3_server.settings(name)
    saved = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    local = _local_files(app)
    yield name
    app.config.update(saved)
    assert _local_files(app) == local, "a photo was written to UPLOAD_DIR instead of S3"


def _local_files(app):
    from pathlib import Path

    return sorted(p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file())


def _keys(world, row):
    return sorted(k for u in world.uploads(row) for k in (u.image_key, u.thumb_key) if k)


def _decide_accept(world, row):
    world.as_clerk()
    assert world.client.post(f"/review/{row.id}/claim").status_code == 303
    data = {f"verdict-{m.id}": "ok" for m in row.materials[:2]}
    data[f"verdict-{row.materials[2].id}"] = "missing"
    data.update(decision="accept_missing", due=decisions.max_due(row).isoformat())
    assert world.client.post(f"/review/{row.id}/decide", data=data).status_code == 303
    db.session.refresh(row)


def test_upload_compress_review_and_reuse_on_s3(world, client, bucket, s3_server):
    assert isinstance(get_storage(), S3Storage)
    row = world.draft()
    for position in (0, 1):
        assert world.upload(row, position, photo()).status_code == 200
    uploads = world.uploads(row)
    assert {u.status for u in uploads} == {"ready"} and all(u.original_key is None for u in uploads)
    # Only the compressed copy and the thumbnail of each photo are left: originals (GPS) are gone.
    assert s3_server.objects(bucket) == _keys(world, row) and len(_keys(world, row)) == 4
    served = client.get(f"/applications/photos/{uploads[0].id}/image")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.height > image.width and max(image.size) <= 1600 and not image.getexif()
    assert b"TestPhone" not in served.data

    assert client.post(f"/applications/{row.id}/submit").status_code == 303
    db.session.refresh(row)
    _decide_accept(world, row)
    assert row.status == Status.ACCEPTED_WITH_MISSING
    review = client.get(f"/review/{row.id}").get_data(as_text=True)
    assert f"/applications/photos/{uploads[0].id}/thumb" in review
    staff_copy = client.get(f"/applications/photos/{uploads[0].id}/image")
    assert staff_copy.status_code == 200 and staff_copy.headers["Cache-Control"].startswith(
        "private")

    # 材料复用 copies the checked photo inside the bucket.
    other = item(halls=[world.hall], materials=("法定代表人身份证",), code="SC-S3")
    world.as_citizen()
    app_id = int(client.post(f"/apply/{other.code}").location.split("/")[-2])
    from app.applications.models import Application

    second = db.session.get(Application, app_id)
    assert client.post(
        f"/applications/{app_id}/materials/{second.materials[0].id}/reuse").status_code == 200
    db.session.refresh(second)
    [copy] = second.materials[0].current
    assert copy.image_key in s3_server.objects(bucket)
    assert client.get(f"/applications/photos/{copy.id}/thumb").status_code == 200


def test_removing_and_purging_delete_the_objects(world, client, bucket, s3_server):
    row = world.draft()
    world.upload(row, 0, photo())
    world.upload(row, 1, photo())
    first = world.uploads(row)[0]
    gone = {first.image_key, first.thumb_key}
    assert client.post(f"/applications/{row.id}/photos/{first.id}/remove").status_code == 200
    assert not gone & set(s3_server.objects(bucket))
    assert client.get(f"/applications/photos/{first.id}/thumb").status_code == 404
    world.upload(row, 0, photo())
    assert client.post(f"/applications/{row.id}/submit").status_code == 303
    _decide_accept(world, row)
    world.client.post(f"/review/{row.id}/supplied")
    assert s3_server.objects(bucket)
    assert deadlines.housekeeping(utcnow() + timedelta(days=181))["purged"] == 1
    assert s3_server.objects(bucket) == []


@pytest.mark.parametrize("serve", ["proxy", "redirect"])
def test_another_citizen_or_hall_cannot_get_the_photo(world, client, bucket, app, serve):
    app.config["S3_SERVE"] = serve
    row = world.submitted()
    upload = world.uploads(row)[0]
    own = client.get(f"/applications/photos/{upload.id}/thumb")
    assert own.status_code == (302 if serve == "redirect" else 200)
    world.as_citizen("13900139000")
    for kind in ("image", "thumb", "status"):
        response = client.get(f"/applications/photos/{upload.id}/{kind}")
        assert response.status_code == 404 and "Location" not in response.headers, kind
    world.as_clerk(world.far_clerk)  # staff of another hall: outside their hall (403)
    for kind in ("image", "thumb"):
        response = client.get(f"/applications/photos/{upload.id}/{kind}")
        assert response.status_code == 403 and "Location" not in response.headers
    world.auth.logout()
    assert client.get(f"/applications/photos/{upload.id}/thumb").status_code == 404


def test_redirect_mode_hands_out_presigned_urls_that_expire(world, client, bucket, app,
                                                            s3_server):
    app.config.update(S3_SERVE="redirect", S3_URL_SECONDS=60)
    row = world.submitted()
    upload = world.uploads(row)[0]
    response = client.get(f"/applications/photos/{upload.id}/image")
    assert response.status_code == 302
    url = response.headers["Location"]
    assert url.startswith(f"{s3_server.endpoint}/{bucket}/{upload.image_key}?")
    assert "X-Amz-Expires=60" in url and "X-Amz-Signature=" in url
    assert response.headers["Cache-Control"] == "private, max-age=30"
    page = client.get(f"/applications/{row.id}")
    assert f"img-src 'self' {s3_server.endpoint} data:" in page.headers["Content-Security-Policy"]
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.content == get_storage().open(upload.image_key)
    # The same signature does not open another photo, and the bucket refuses anonymous reads.
    other = world.uploads(row)[1]
    assert requests.get(url.replace(upload.image_key, other.image_key), timeout=10
                        ).status_code == 403
    assert requests.get(url.split("?")[0], timeout=10).status_code == 403
    # A URL handed out two minutes ago has expired (the test sets the clock it was signed by,
    # rather than sleeping past a short lifetime, which a busy machine could overrun).
    with travel(datetime.now(UTC) - timedelta(minutes=2), tick=False):
        old = client.get(f"/applications/photos/{upload.id}/image").headers["Location"]
    expired = requests.get(old, timeout=10)
    assert expired.status_code == 403 and "Request has expired" in expired.text
    # A fresh request through the checks gets a fresh URL; staff always get the watermarked proxy.
    again = client.get(f"/applications/photos/{upload.id}/image").headers["Location"]
    assert requests.get(again, timeout=10).status_code == 200
    world.as_clerk()
    staff = client.get(f"/applications/photos/{upload.id}/image")
    assert staff.status_code == 200 and staff.mimetype == "image/jpeg"


def test_a_store_that_is_down_gives_a_message_not_a_500(world, client, bucket, app):
    row = world.draft()
    world.upload(row, 0, photo())
    ready = world.uploads(row)[0]
    app.config["S3_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens there
    response = world.upload(row, 1, photo())
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "上传失败,请重试" in page
    card = f"section.app-material#material-{row.materials[1].id}"
    assert "上传失败,请重试" in text_of(page, card)
    assert [u.id for u in world.uploads(row)] == [ready.id]  # nothing half-kept
    assert client.get(f"/applications/photos/{ready.id}/thumb").status_code == 503
