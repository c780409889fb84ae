"""Other issuers behind one interface: the HTTP adapter against a local fake platform, and a
slow or failing platform that never blocks an application (the material falls back to a photo
with a note). The timeout is a setting, so the tests use a short one and hold the fake's answer
instead of relying on a real 2 s being slow."""

import time

import pytest
from applications.application_kit import VALID_ID
from fakes.licence_platform import LicencePlatform
from licences.licence_kit import World

from app.applications.models import Application
from app.extensions import db
from app.licences import services, sources
from app.licences.models import Licence


@pytest.fixture(scope="module")
def platform():
    fake = LicencePlatform()
    yield fake
    fake.stop()


@pytest.fixture
def world(app, platform):
    platform.reset()
    saved = {k: app.config[k] for k in ("LICENCE_SOURCES", "LICENCE_HTTP_URL",
                                          "LICENCE_LOOKUP_SECONDS")}
    app.config.update(LICENCE_SOURCES="own,http", LICENCE_HTTP_URL=platform.url,
                      LICENCE_LOOKUP_SECONDS=0.3)
    yield World(app)
    platform.reset()
    app.config.update(saved)


def test_the_default_is_this_apps_own_records(app):
    assert app.config["LICENCE_SOURCES"] == "own"
    assert [s.name for s in sources.configured()] == ["own"]


def test_a_licence_on_the_platform_stands_in_for_the_material(world, platform):
    platform.add(VALID_ID, "residence_permit", number="PROV-JZ-88", holder_name="张三",
                 department="省公安厅", issued_on="2025-06-01", expires_on="2027-05-31")
    citizen = world.client(world.citizen)
    row = world.draft(citizen, world.user_item)
    page = citizen.get(f"/applications/{row.id}/materials").get_data(as_text=True)
    assert "已有电子证照,无需提交" in page and "PROV-JZ-88" in page
    assert platform.calls[0] == {"type": "residence_permit", "holder": VALID_ID}
    carried = db.session.get(Application, row.id).materials[0].licence
    assert carried.source == "http" and carried.department == "省公安厅"
    assert carried.holder_user_id == world.citizen.id


@pytest.mark.parametrize("mode", ["slow", "error", "garbage"])
def test_a_slow_or_failing_platform_falls_back_to_a_photo_with_a_note(world, platform, mode):
    platform.mode = mode
    citizen = world.client(world.citizen)
    row = world.draft(citizen, world.user_item)
    started = time.monotonic()
    response = citizen.get(f"/applications/{row.id}/materials")
    took = time.monotonic() - started
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "电子证照查询暂时不可用,请拍照上传本材料" in page and "拍照" in page
    assert "已有电子证照,无需提交" not in page
    if mode == "slow":
        assert platform.held.is_set()  # the platform really was still answering
        assert took < 0.3 + 2.0  # the setting's 0.3 s, plus the page's own work
    platform.release()
    material = db.session.get(Application, row.id).materials[0]
    assert material.licence_id is None and material.licence_note == services.LOOKUP_FAILED
    # The application goes on with a photo, as today: the lookup is not asked again.
    citizen.get(f"/applications/{row.id}/materials")
    assert len(platform.calls) == 1


def test_a_slow_platform_is_waited_for_once_however_many_materials_name_a_licence(
        world, platform):
    """The 2 s is for the whole page: each material that names a licence type must not wait its
    own 2 s, or an item with three such materials would hold the page for 6 s."""
    world.user_item.materials[1].licence_type = "marriage_cert"
    db.session.commit()
    platform.mode = "slow"
    citizen = world.client(world.citizen)
    row = world.draft(citizen, world.user_item)
    page = citizen.get(f"/applications/{row.id}/materials").get_data(as_text=True)
    platform.release()
    assert page.count("电子证照查询暂时不可用,请拍照上传本材料") == 2
    # The second material found the lookup's time already spent and did not ask again.
    assert len(platform.calls) == 1
    notes = [m.licence_note for m in db.session.get(Application, row.id).materials]
    assert notes == [services.LOOKUP_FAILED, services.LOOKUP_FAILED]


def test_own_records_still_count_when_the_platform_is_down(world, platform):
    from datetime import date

    platform.mode = "error"
    db.session.add(Licence(type_code="residence_permit", number="OWN-1", holder_name="张三",
                           holder_user_id=world.citizen.id, department="公安局",
                           hall_id=world.hall.id, issued_on=date(2026, 1, 1)))
    db.session.commit()
    holder = sources.Holder(user_id=world.citizen.id, id_number=VALID_ID)
    found, failed = services.find(holder, "residence_permit")
    assert [r.number for r in found] == ["OWN-1"] and failed
    citizen = world.client(world.citizen)
    row = world.draft(citizen, world.user_item)
    page = citizen.get(f"/applications/{row.id}/materials").get_data(as_text=True)
    assert "已有电子证照,无需提交" in page and "OWN-1" in page


def test_a_revoke_on_the_platform_is_an_audited_move_that_texts_nobody(world, platform):
    from sqlalchemy import select

    from app.core.models import AuditLog
    from app.sms.models import SmsMessage

    record = {"number": "PROV-JZ-90", "holder_name": "张三", "issued_on": "2025-06-01"}
    platform.add(VALID_ID, "residence_permit", **record)
    holder = sources.Holder(world.citizen.id, "张三", VALID_ID)
    source = sources.HttpSource(platform.url)
    [row] = source.find(holder, "residence_permit")
    assert row.status == "valid"
    db.session.commit()

    platform.records.clear()
    platform.add(VALID_ID, "residence_permit", **record, status="revoked")
    holder.deadline = None
    [row] = source.find(holder, "residence_permit")
    db.session.commit()
    assert row.status == "revoked" and row.status_reason == "省级证照平台同步"
    [entry] = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "licence", AuditLog.entity_id == row.id)).all()
    assert (entry.from_status, entry.to_status, entry.actor_id) == ("valid", "revoked", None)
    assert db.session.scalars(select(SmsMessage).where(
        SmsMessage.template == "licence_revoked")).all() == []

    # a revoked licence is never valid again (the table forbids it): the row stays revoked
    platform.records.clear()
    platform.add(VALID_ID, "residence_permit", **record, status="valid")
    [row] = source.find(holder, "residence_permit")
    db.session.commit()
    assert row.status == "revoked"
    assert db.session.scalar(select(AuditLog.id).where(
        AuditLog.entity == "licence", AuditLog.to_status == "valid")) is None
