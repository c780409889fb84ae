"""notify(): the template per event, a short link per message, idempotency, quiet hours."""

import pytest
from conftest import shanghai

import factories
from app.core.links import ShortLink
from app.core.timeutil import to_local
from app.extensions import db
from app.progress.notify import EVENTS, notify
from app.sms.models import SmsMessage
from app.sms.templates import TEMPLATES

PARAMS = {"deadline": "12月15日", "when": "11月30日 14:30", "hall": "测试大厅", "time": "14:30",
          "ticket": "A012", "ahead": "3", "window": "C01"}


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_event_queues_its_template_with_a_link(app, matters, event):
    owner = factories.citizen("13800138000")
    matter = matters.add(owner)
    with app.test_request_context():
        message = notify("testcase", matter.id, event, params=PARAMS)
    db.session.commit()
    assert message.template == EVENTS[event].template in TEMPLATES
    assert message.phone == "13800138000" and message.status != "permanent_failure"
    link = db.session.query(ShortLink).one()
    assert (link.entity, link.entity_id, link.purpose) == ("testcase", matter.id,
                                                         EVENTS[event].purpose)
    assert link.token in message.params["link"]


def test_application_events_carry_the_link_in_the_text(app, matters):
    matter = matters.add(factories.citizen())
    for event in ("supplement", "accepted", "accepted_with_missing", "completed",
                  "rejected", "ticket_called_soon"):
        with app.test_request_context():
            message = notify("testcase", matter.id, event, params=PARAMS)
        assert "/t/" in message.text, event
    db.session.commit()


def test_same_event_and_key_sends_once(app, matters):
    matter = matters.add(factories.citizen())
    with app.test_request_context():
        first = notify("testcase", matter.id, "supplement", key=1)
        again = notify("testcase", matter.id, "supplement", key=1)
        second = notify("testcase", matter.id, "supplement", key=2)
    db.session.commit()
    assert first.id == again.id != second.id
    assert db.session.query(SmsMessage).count() == 2


def test_unknown_event_or_record_is_refused(app, matters):
    matter = matters.add(factories.citizen())
    with app.test_request_context():
        with pytest.raises(ValueError):
            notify("testcase", matter.id, "exploded")
        with pytest.raises(LookupError):
            notify("testcase", 999999, "accepted")
        with pytest.raises(LookupError):
            notify("nothing", matter.id, "accepted")


@pytest.mark.time_machine(shanghai("2026-12-02 23:30"), tick=True)
def test_quiet_hours_hold_updates(app, matters, monkeypatch):
    matter = matters.add(factories.citizen())
    monkeypatch.setitem(app.config, "QUIET_HOURS", "22-8")  # the default: 23:30 is inside
    with app.test_request_context():
        message = notify("testcase", matter.id, "completed")
    db.session.commit()
    assert to_local(message.send_after) == shanghai("2026-12-03 08:00")
    assert message.status == "queued"


def test_notify_from_a_job_builds_the_link_from_server_name(app, matters):
    matter = matters.add(factories.citizen())
    db.session.commit()
    app.config.update(SERVER_NAME="zsb.xam.gov.cn", PREFERRED_URL_SCHEME="https")
    try:
        with app.app_context():  # no request: a job's own app context, as the worker pushes it
            message = notify("testcase", matter.id, "booking_reminder", params=PARAMS)
            db.session.commit()
            link = message.params["link"]
    finally:
        app.config.update(SERVER_NAME=None, PREFERRED_URL_SCHEME="http")
    assert link.startswith("https://zsb.xam.gov.cn/t/")
