"""Before an application's first photo, a separate consent to sensitive personal information
(个人信息保护法 art. 28–29) is asked and recorded; a new version asks again."""

import io

import pytest
from applications.application_kit import VALID_ID, photo
from conftest import shanghai
from html_kit import count, errors, has, text_of

from app.auth.models import Consent
from app.extensions import db

pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=False)


def _started(world, code=None):
    world.as_citizen()
    response = world.client.post(f"/apply/{code or world.item.code}")
    app_id = int(response.location.split("/")[-2])
    assert world.client.post(f"/applications/{app_id}/applicant", data={
        "name": "张三", "id_number": VALID_ID, "phone": "13800138000"}).status_code == 303
    return app_id


def _upload(world, app_id, material_id):
    return world.client.post(
        f"/applications/{app_id}/materials/{material_id}/photos",
        data={"photo": (io.BytesIO(photo()), "id.jpg")}, content_type="multipart/form-data",
        headers={"HX-Request": "true"})


def test_asked_before_the_first_photo_and_recorded(world):
    from app.applications.models import Application

    app_id = _started(world)
    page = world.client.get(f"/applications/{app_id}/materials").get_data(as_text=True)
    assert "第二十八条" in text_of(page, "#sensitive-consent")
    assert count(page, "section.app-material") == 0
    material = db.session.get(Application, app_id).materials[0]
    refused = _upload(world, app_id, material.id)
    assert refused.status_code == 409 and "敏感个人信息" in errors(refused)
    unticked = world.client.post(f"/applications/{app_id}/consent")
    assert unticked.status_code == 400 and "请勾选同意" in errors(unticked)
    world.consent(app_id)
    row = db.session.query(Consent).filter_by(document="sensitive").one()
    assert (row.version, row.scope) == ("2026-12-01", f"application:{app_id}")
    page = world.client.get(f"/applications/{app_id}/materials").get_data(as_text=True)
    assert count(page, "#sensitive-consent") == 0 and count(page, "section.app-material") > 0
    assert _upload(world, app_id, material.id).status_code == 200


def test_each_application_asks_and_a_new_version_asks_again(world, app, monkeypatch):
    import factories

    first = _started(world)
    world.consent(first)
    other = factories.item(halls=[world.hall], materials=("居民身份证",), code="SC-T09")
    second = _started(world, other.code)
    assert second != first
    assert has(world.client.get(f"/applications/{second}/materials"), "#sensitive-consent")
    monkeypatch.setitem(app.config, "SENSITIVE_CONSENT_VERSION", "2027-01-01")
    assert has(world.client.get(f"/applications/{first}/materials"), "#sensitive-consent")


def test_once_seen_the_consent_is_not_read_again_in_this_browser(world, app, monkeypatch):
    """The session remembers the applications it saw covered (a recorded consent is never taken
    back): the photos after it read no consent row; a new version is read, and asked, again."""
    from sqlalchemy import event

    from app.applications.models import Application

    app_id = _started(world)
    world.consent(app_id)
    material = db.session.get(Application, app_id).materials[0]
    seen = []
    engine = db.engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert _upload(world, app_id, material.id).status_code == 200
        assert not [sql for sql in seen if "FROM consent" in sql]
        monkeypatch.setitem(app.config, "SENSITIVE_CONSENT_VERSION", "2027-01-01")
        assert has(world.client.get(f"/applications/{app_id}/materials"), "#sensitive-consent")
        assert [sql for sql in seen if "FROM consent" in sql]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
