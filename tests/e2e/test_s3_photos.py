"""On a phone, with photos in a bucket served by presigned URL (PHOTO_STORAGE=s3, redirect):
the thumbnail really loads from the store, within the CSP, and another phone cannot load it;
with the store down, an upload says so beside its material."""

import secrets

import pytest
from applications.application_kit import VALID_ID, photo
from e2e.browser import sign_in, start_licence_change
from sqlalchemy import select

from app.applications.models import Upload
from app.extensions import db


@pytest.fixture
def on_s3(app, s3_server):
    settings = s3_server.settings(s3_server.new_bucket(f"palm-{secrets.token_hex(6)}"),
                                  S3_SERVE="redirect")
    saved = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    yield settings
    app.config.update(saved)


# on_s3 before make_phone: the demo load then stores its example photos (示例图) in the bucket.
def test_a_thumbnail_comes_from_the_bucket_by_presigned_url(app, on_s3, make_phone, tmp_path,
                                                            run_jobs, s3_server):
    path = tmp_path / "doc.jpg"
    path.write_bytes(photo(1200, 1600))
    citizen = make_phone()
    page = citizen.page
    store_hits = []
    page.on("response", lambda r: store_hits.append(r.status)
            if r.url.startswith(s3_server.endpoint) else None)
    start_licence_change(citizen, VALID_ID)
    card = page.locator("section.app-material").first
    card.locator("input.app-file").nth(1).set_input_files(str(path))
    card.locator(".app-photo").first.wait_for()
    run_jobs()
    card.locator(".app-photo-link img").first.wait_for(timeout=15000)
    page.wait_for_function("() => { const i = document.querySelector('.app-photo img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=15000)
    assert 200 in store_hits  # the bytes came from the store, not through the app
    citizen.assert_clean()  # no CSP violation, no broken image

    # The store goes down: the next upload says so beside its material, once, and keeps nothing.
    on_s3_down = {"S3_ENDPOINT_URL": "http://127.0.0.1:9"}
    saved = {k: app.config[k] for k in on_s3_down}
    app.config.update(on_s3_down)
    try:
        second = page.locator("section.app-material").nth(1)
        material_id = second.get_attribute("id")
        second.locator("input.app-file").nth(1).set_input_files(str(path))
        page.locator(f"#{material_id}-error").wait_for(timeout=20000)
        assert "上传失败,请重试" in page.locator(f"#{material_id}-error").inner_text()
        assert page.locator(f"#{material_id}").count() == 1
    finally:
        app.config.update(saved)

    upload = db.session.scalars(select(Upload)).one()
    stranger = make_phone()
    sign_in(stranger, "13900139000", "/me")
    response = stranger.page.goto(f"/applications/photos/{upload.id}/thumb")
    assert response.status == 404 and response.url.endswith("/thumb")  # never sent on
