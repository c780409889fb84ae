"""A bad rating's optional photo: checked, compressed by a job, private to rater and hall."""

import io

from html_kit import field_value, text_of
from PIL import Image

from app.extensions import db
from app.ratings.models import Rating


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2400, 1800), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def test_photo_is_compressed_and_shown_to_the_rater_and_the_hall_only(
        world, citizen_client, client, auth, run_jobs):
    invite = world.invite()
    citizen_client.get(f"/ratings/{invite.id}/details?score=1")
    response = citizen_client.post(f"/ratings/{invite.id}", data={
        "score": 1, "reason": "attitude", "photo_album": (io.BytesIO(_jpeg()), "scene.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    run_jobs()
    rating = db.session.query(Rating).one()
    assert rating.photo_path and rating.photo_original is None
    response = citizen_client.get(f"/ratings/photo/{rating.id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert "private" in response.headers["Cache-Control"]
    assert max(Image.open(io.BytesIO(response.data)).size) == 1600
    auth.login_staff("clerk1", "secret-pass-1")
    assert client.get(f"/ratings/photo/{rating.id}").status_code == 200
    assert f"/ratings/photo/{rating.id}" in client.get(
        f"/ratings/cases/{rating.case.id}").get_data(as_text=True)
    auth.logout()
    auth.login_staff("clerk2", "secret-pass-3")
    assert client.get(f"/ratings/photo/{rating.id}").status_code == 403  # another hall
    assert f"/ratings/photo/{rating.id}" not in client.get(
        f"/halls/{world.hall.id}/ratings").get_data(as_text=True)


def test_a_file_that_is_not_a_photo_is_refused_beside_the_field(world, citizen_client):
    invite = world.invite()
    response = citizen_client.post(f"/ratings/{invite.id}", data={
        "score": 2, "reason": "slow", "reason_text": "排队太久",
        "photo_camera": (io.BytesIO(b"%PDF-1.4 not a photo"), "x.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "只能上传 JPG、PNG、WebP 或 HEIC 格式的照片" in text_of(response, "#photo-error")
    assert field_value(response, "reason_text") == "排队太久"  # what was typed is kept
    assert db.session.query(Rating).count() == 0
