"""Push is sent (issue 22, point 3): each application SMS to a citizen subscribed in the app has a
Web Push twin, sent through the outbox once, held by quiet hours like its SMS."""

from datetime import UTC

import pytest
from conftest import shanghai
from sqlalchemy import select

from app import jobs
from app.core.timeutil import local_now
from app.extensions import db
from app.progress.models import PushSubscription
from app.sms.models import SmsMessage


def _subscribe(push, user_id: int) -> None:
    data = push.subscription("phone")
    db.session.add(PushSubscription(user_id=user_id, endpoint=data["endpoint"], **data["keys"]))
    db.session.commit()


def _accepted(world, client, row) -> None:
    """The clerk claims and accepts with the optional material missing (容缺受理): an SMS, where
    submitting and claiming send none."""
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    data = {f"verdict-{m.id}": "ok" for m in row.materials}
    data[f"verdict-{row.materials[2].id}"] = "missing"
    data.update(decision="accept_missing", due=local_now().date().isoformat())
    assert client.post(f"/review/{row.id}/decide", data=data).status_code == 303


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_each_application_sms_has_one_push_twin(world, client, push, run_jobs):
    row = world.draft()
    _subscribe(push, row.citizen_id)
    row = world.submitted()
    run_jobs()
    assert push.received == []  # submitting is the person's own act: no SMS, so no push
    _accepted(world, client, row)
    run_jobs()
    assert push.refused == []
    [(_, data)] = push.received
    assert data["body"].startswith(f"办件{row.number}已容缺受理") and "/t/" in data["url"]
    sms = db.session.scalars(select(SmsMessage).where(SmsMessage.phone == "13800138000",
                                                      SmsMessage.template.like("app_%"))).all()
    assert [m.template for m in sms] == ["app_accepted_missing"]  # the SMS still goes
    assert db.session.query(jobs.OutboxJob).filter_by(name="progress.push").count() == 1


@pytest.mark.time_machine(shanghai("2026-12-02 23:00"), tick=True)
def test_quiet_hours_hold_the_push_with_its_sms(app, world, client, push, run_jobs):
    row = world.draft()
    _subscribe(push, row.citizen_id)
    app.config["QUIET_HOURS"] = "22-8"
    try:
        row = world.submitted()
        _accepted(world, client, row)
        run_jobs()
    finally:
        app.config["QUIET_HOURS"] = "0-0"
    assert push.received == []
    job = db.session.scalar(select(jobs.OutboxJob).where(jobs.OutboxJob.name == "progress.push"))
    wake = shanghai("2026-12-03 08:00").astimezone(UTC).replace(tzinfo=None)
    assert job.run_at == wake and job.status == "pending"
