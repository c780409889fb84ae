"""Retention (photos purged after the setting's days, audit kept) and reuse of checked materials."""

from datetime import timedelta

from sqlalchemy import select

from app.applications import deadlines, decisions, photos
from app.applications.states import Status
from app.core.models import AuditLog
from app.core.timeutil import utcnow
from app.extensions import db
from app.uploads.storage import get_storage
from factories import item


def _accepted(world):
    row = world.submitted()
    world.as_clerk()
    world.client.post(f"/review/{row.id}/claim")
    data = {f"verdict-{m.id}": "ok" for m in row.materials[:2]}
    data[f"verdict-{row.materials[2].id}"] = "missing"
    data.update(decision="accept_missing", due=decisions.max_due(row).isoformat())
    assert world.client.post(f"/review/{row.id}/decide", data=data).status_code == 303
    world.client.post(f"/review/{row.id}/supplied")
    db.session.refresh(row)
    assert row.status == Status.ACCEPTED and row.closed_at is not None
    return row


def test_photos_of_long_closed_applications_are_purged_and_the_audit_kept(world, client):
    row = _accepted(world)
    keys = [k for u in world.uploads(row) for k in (u.image_key, u.thumb_key)]
    audits = db.session.scalar(select(db.func.count()).select_from(AuditLog).where(
        AuditLog.entity == "application", AuditLog.entity_id == row.id))
    assert deadlines.housekeeping(utcnow() + timedelta(days=179))["purged"] == 0
    assert all(get_storage().exists(k) for k in keys)
    assert deadlines.housekeeping(utcnow() + timedelta(days=181))["purged"] == 1
    assert not any(get_storage().exists(k) for k in keys)
    db.session.refresh(row)
    assert row.photos_purged_at is not None
    assert {u.status for u in world.uploads(row)} == {"purged"}
    after = db.session.scalar(select(db.func.count()).select_from(AuditLog).where(
        AuditLog.entity == "application", AuditLog.entity_id == row.id))
    assert after == audits + 1  # the purge itself is recorded; nothing was removed
    page = client.get(f"/review/{row.id}").get_data(as_text=True)
    assert "已按保存期限删除" in page
    assert deadlines.housekeeping(utcnow() + timedelta(days=182))["purged"] == 0


def test_a_checked_material_is_offered_for_reuse_with_its_date(world, client, auth):
    first = _accepted(world)
    checked = first.materials[1].current[0]
    assert checked.trust == "B" and checked.checked_at is not None
    other = item(halls=[world.hall], materials=("法定代表人身份证", "章程修正案"), code="SC-T02")
    world.as_citizen()
    response = client.post(f"/apply/{other.code}")
    app_id = int(response.location.split("/")[-2])
    world.consent(app_id)
    page = client.get(f"/applications/{app_id}/materials").get_data(as_text=True)
    assert "复用已核验的材料" in page and checked.checked_at.strftime("%Y") in page
    from app.applications.models import Application

    row = db.session.get(Application, app_id)
    response = client.post(f"/applications/{app_id}/materials/{row.materials[0].id}/reuse")
    assert response.status_code == 200
    db.session.refresh(row)
    [copy] = row.materials[0].current
    assert copy.trust == "B" and copy.reused_from_id == checked.id
    assert copy.checked_at == checked.checked_at and copy.image_key != checked.image_key
    assert client.get(f"/applications/photos/{copy.id}/thumb").status_code == 200
    # Another citizen is never offered it.
    world.as_citizen("13900139000")
    response = client.post(f"/apply/{other.code}")
    app_id = int(response.location.split("/")[-2])
    assert "复用已核验的材料" not in client.get(
        f"/applications/{app_id}/materials").get_data(as_text=True)


def test_a_reuse_older_than_the_setting_is_not_offered(world, client, auth, app):
    first = _accepted(world)
    for upload in first.materials[1].current:
        upload.checked_at = utcnow() - timedelta(days=app.config["MATERIAL_REUSE_DAYS"] + 1)
    db.session.commit()
    row = world.draft()
    assert photos.reusable(row.citizen_id, row.materials[1]) is None
