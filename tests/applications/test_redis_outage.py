"""With Redis down, a citizen still submits; SMS go out at once, the rest waits in the outbox."""

from datetime import timedelta

from applications.application_kit import photo
from sqlalchemy import select

from app import jobs
from app.applications.states import Status
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import JobStatus, OutboxJob
from app.sms.models import SmsMessage, SmsStatus


def test_submit_with_redis_down_then_the_sweep_delivers(app, world, monkeypatch):
    row = world.draft()
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    for position in (0, 1):
        assert world.upload(row, position, photo()).status_code == 200
    response = world.client.post(f"/applications/{row.id}/submit")
    assert response.status_code == 303
    db.session.refresh(row)
    assert row.status == Status.SUBMITTED
    waiting = db.session.scalars(select(OutboxJob).where(
        OutboxJob.status == JobStatus.PENDING)).all()
    assert "applications.compress_photo" in {j.name for j in waiting}
    # the clerk's decision, still with Redis down: its SMS goes out at once all the same
    world.as_clerk()
    world.client.post(f"/review/{row.id}/claim")
    decided = world.client.post(f"/review/{row.id}/decide", data={
        **{f"verdict-{m.id}": "ok" for m in row.materials}, "decision": "reject",
        "reason": "not_eligible"})
    assert decided.status_code == 303
    sms = db.session.scalars(select(SmsMessage).where(
        SmsMessage.template == "app_rejected")).one()
    assert sms.status == SmsStatus.DELIVERED  # SMS (the high queue) went from the web process

    monkeypatch.setitem(app.config, "REDIS_URL", None)  # "Redis is back": the sweep runs them
    for _ in range(3):
        jobs.sweep(now=utcnow() + timedelta(minutes=10))
    db.session.expire_all()
    assert not db.session.scalars(select(OutboxJob).where(
        OutboxJob.name == "applications.compress_photo",
        OutboxJob.status != JobStatus.DONE)).all()
