"""Another citizen gets 404 for an application and its photos (it is never said to exist); a
clerk of another hall is refused with 403 (outside their hall)."""

import io

import pytest
from applications.application_kit import photo
from PIL import Image

from app.applications import watermark
from app.uploads.storage import LocalStorage


def _urls(row, upload):
    m = row.materials[0]
    return [("get", f"/applications/{row.id}"), ("get", f"/applications/{row.id}/materials"),
            ("get", f"/applications/{row.id}/check"), ("get", f"/applications/{row.id}/supplement"),
            ("get", f"/applications/photos/{upload.id}/image"),
            ("get", f"/applications/photos/{upload.id}/thumb"),
            ("get", f"/applications/photos/{upload.id}/status"),
            ("post", f"/applications/{row.id}/materials/{m.id}/photos"),
            ("post", f"/applications/{row.id}/submit"),
            ("post", f"/applications/{row.id}/withdraw")]


@pytest.fixture
def row(world):
    row = world.submitted()
    return row


def test_citizen_b_gets_404_for_citizen_a(world, row, client, auth):
    upload = world.uploads(row)[0]
    world.as_citizen("13900139000")
    for method, url in _urls(row, upload):
        assert getattr(client, method)(url).status_code == 404, url
    assert row.number not in client.get("/applications").get_data(as_text=True)


def test_clerk_of_another_hall_is_refused(world, row, client):
    upload = world.uploads(row)[0]
    world.as_clerk(world.far_clerk)
    for url in (f"/review/{row.id}", f"/applications/photos/{upload.id}/image",
                f"/applications/photos/{upload.id}/thumb"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert row.number not in response.get_data(as_text=True)
    assert client.post(f"/review/{row.id}/claim").status_code == 403
    assert row.number not in client.get("/review").get_data(as_text=True)


def test_clerk_of_the_hall_sees_the_photos_privately(world, row, client):
    upload = world.uploads(row)[0]
    citizens_copy = client.get(f"/applications/photos/{upload.id}/image").data
    world.as_clerk()
    response = client.get(f"/applications/photos/{upload.id}/image")
    assert response.status_code == 200 and response.headers["Cache-Control"].startswith("private")
    image = Image.open(io.BytesIO(response.data))
    assert not image.getexif() and b"TestPhone" not in response.data
    # The faint mark (the citizen's copy as mark() marks it; unmarked without a CJK font).
    assert response.data == watermark.mark(citizens_copy)
    assert row.number in client.get("/review").get_data(as_text=True)


def test_citizens_cannot_open_the_review_pages(world, row, client):
    assert client.get("/review").status_code == 403
    assert client.get(f"/review/{row.id}").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(world, row, client, auth):
    auth.logout()
    response = client.get(f"/applications/{row.id}")
    assert response.status_code == 302 and "/login" in response.location


def test_drafts_are_invisible_to_clerks(world, client):
    row = world.draft()
    world.upload(row, 0, photo())
    world.as_clerk()
    assert client.get(f"/review/{row.id}").status_code == 404


def test_storage_refuses_keys_that_are_not_its_own(tmp_path):
    store = LocalStorage(tmp_path)
    key = store.save(b"abc")
    assert store.open(key) == b"abc"
    with pytest.raises(KeyError):
        store.open("../../etc/passwd")
    store.delete(key)
    store.delete(key)  # twice is fine
    assert not store.exists(key)
