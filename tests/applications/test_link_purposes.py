"""A link grants exactly its purpose: a 查看进度 link shows the status, never the ID photos and
never a change; a 补正 link lets its holder replace the flagged materials (issue 16, class 3)."""

import re

import pytest

from app.applications.models import Application
from app.applications.states import Status
from app.extensions import db


def _link(world, template: str) -> str:
    [message] = world.sms(template)
    return re.search(r"http://localhost(/t/\w+)", message.text).group(1)


@pytest.fixture
def viewed(world, app):
    """A submitted application, and a second browser that opened its 查看进度 link while signed in
    as another citizen (the SMS also goes to a family member's phone, and SMS get forwarded)."""
    row = world.submitted()
    upload = world.uploads(row)[0]
    stranger = app.test_client()
    from conftest import Auth

    Auth(stranger).login_citizen("13900139000")
    opened = stranger.get(world.view_link(row))
    assert opened.status_code == 302
    return row, upload, stranger


def test_a_view_link_shows_the_status(viewed):
    row, _, stranger = viewed
    page = stranger.get(f"/applications/{row.id}")
    assert page.status_code == 200 and row.number in page.get_data(as_text=True)
    assert "撤回申请" not in page.get_data(as_text=True)


def test_a_view_link_never_opens_the_id_photos(viewed):
    row, upload, stranger = viewed
    for kind in ("image", "thumb", "status"):
        assert stranger.get(f"/applications/photos/{upload.id}/{kind}").status_code == 404, kind
    for page in ("materials", "check", "supplement", "applicant"):
        assert stranger.get(f"/applications/{row.id}/{page}").status_code == 404, page


def test_a_view_link_never_changes_anything(viewed, world):
    row, upload, stranger = viewed
    material = row.materials[0]
    for path in (f"/applications/{row.id}/withdraw", f"/applications/{row.id}/submit",
                 f"/applications/{row.id}/commitment",
                 f"/applications/{row.id}/photos/{upload.id}/remove",
                 f"/applications/{row.id}/materials/{material.id}/reuse"):
        assert stranger.post(path, data={"agree": "1"}).status_code == 404, path
    db.session.expire_all()
    assert db.session.get(Application, row.id).status == Status.SUBMITTED
    assert len(world.uploads(row)) == 2 and all(u.removed_at is None for u in world.uploads(row))


def test_a_view_link_without_signing_in_asks_the_owner_to_sign_in(world, app):
    row = world.submitted()
    upload = world.uploads(row)[0]
    browser = app.test_client()
    browser.get(world.view_link(row))
    assert browser.get(f"/applications/{row.id}").status_code == 200
    assert browser.get(f"/applications/photos/{upload.id}/image").status_code == 404
    refused = browser.post(f"/applications/{row.id}/withdraw")
    assert refused.status_code == 302 and "/login" in refused.location
    assert db.session.get(Application, row.id).status == Status.SUBMITTED


def test_a_supplement_link_opens_the_photos_and_the_flagged_materials(world, app, client):
    row = world.submitted()
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    flagged = row.materials[1]
    data = {f"verdict-{m.id}": "ok" for m in row.materials}
    data.update({"decision": "supplement", f"verdict-{flagged.id}": "fix",
                 f"fix-{flagged.id}": "blurry", f"verdict-{row.materials[2].id}": "missing"})
    assert client.post(f"/review/{row.id}/decide", data=data).status_code == 303
    browser = app.test_client()
    browser.get(_link(world, "app_supplement"))
    upload = world.uploads(row)[1]
    assert browser.get(f"/applications/photos/{upload.id}/thumb").status_code == 200
    assert browser.get(f"/applications/{row.id}/supplement").status_code == 200
    assert browser.get(f"/applications/{row.id}/check").status_code == 200
    # the 补正 link is for the materials: withdrawing stays the signed-in owner's
    assert browser.post(f"/applications/{row.id}/withdraw").status_code == 302
    assert db.session.get(Application, row.id).status == Status.SUPPLEMENT_REQUESTED
