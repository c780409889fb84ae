"""容缺 reminders (issue 22, point 4): 3 working days before the deadline (holidays counted from
the calendar) and on its last day, sent by the daily job through the outbox, never twice, quiet
hours kept; the deadline shows on 我的办件."""

from datetime import UTC, date

import pytest
from conftest import shanghai
from html_kit import texts

from app import jobs
from app.applications import deadlines
from app.applications.models import Application
from app.applications.states import Status
from app.catalog.workdays import CalendarDay
from app.core.timeutil import utcnow
from app.extensions import db

START = shanghai("2026-11-30 10:00")  # a Monday
DUE = date(2026, 12, 11)  # a Friday; Wednesday 12-09 is a holiday below


def _accepted_with_missing(world, client, due: date) -> Application:
    world.item.promised_days = 15
    db.session.add(CalendarDay(hall_id=None, day=date(2026, 12, 9), is_workday=False,
                               name="大厅检修"))
    db.session.commit()
    row = world.submitted()
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    data = {f"verdict-{m.id}": "ok" for m in row.materials}
    data.update({f"verdict-{row.materials[2].id}": "missing", "decision": "accept_missing",
                 "due": due.isoformat()})
    response = client.post(f"/review/{row.id}/decide", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.status == Status.ACCEPTED_WITH_MISSING and row.missing_due == due
    return row


def _texts(world, template):
    return [m.text for m in world.sms(template)]


@pytest.mark.time_machine(START, tick=False)
def test_reminders_three_working_days_before_and_on_the_last_day(world, client, time_machine):
    row = _accepted_with_missing(world, client, DUE)
    world.as_citizen()
    mine = client.get("/progress/mine").get_data(as_text=True)
    assert "请于 2026年12月11日 前补齐容缺材料" in texts(mine, ".row-due")
    assert texts(mine, ".row-due strong") == ["2026年12月11日"]
    assert "2026年12月11日" in client.get("/applications").get_data(as_text=True)

    for day in ("2026-12-01", "2026-12-04"):  # too early
        time_machine.move_to(shanghai(f"{day} 09:00"), tick=False)
        assert deadlines.remind_missing() == {"soon": 0, "last_day": 0}
    # Monday 12-07: Tue 8, Thu 10, Fri 11 are the 3 working days left (Wed 9 is a holiday)
    time_machine.move_to(shanghai("2026-12-07 09:00"), tick=False)
    assert deadlines.remind_missing() == {"soon": 1, "last_day": 0}
    time_machine.move_to(shanghai("2026-12-07 15:00"), tick=False)
    assert deadlines.remind_missing() == {"soon": 0, "last_day": 0}  # never twice
    for day in ("2026-12-08", "2026-12-10"):
        time_machine.move_to(shanghai(f"{day} 09:00"), tick=False)
        assert deadlines.remind_missing() == {"soon": 0, "last_day": 0}
    [soon] = _texts(world, "app_missing_soon")
    assert f"办件{row.number}的容缺材料请于12月11日前补齐,还剩3个工作日" in soon and "/t/" in soon

    time_machine.move_to(shanghai("2026-12-11 09:00"), tick=False)
    assert deadlines.remind_missing() == {"soon": 0, "last_day": 1}
    assert deadlines.remind_missing() == {"soon": 0, "last_day": 0}
    [last] = _texts(world, "app_missing_last_day")
    assert f"今天是办件{row.number}补齐容缺材料的最后一天" in last
    # the next night the acceptance lapses, and no reminder follows
    time_machine.move_to(shanghai("2026-12-12 09:00"), tick=False)
    assert deadlines.housekeeping()["lapsed"] == 1
    assert deadlines.remind_missing() == {"soon": 0, "last_day": 0}
    assert len(world.sms("app_missing_soon")) == len(world.sms("app_missing_last_day")) == 1


@pytest.mark.time_machine(START, tick=False)
def test_the_scheduler_sends_them_and_a_missed_day_is_made_up(world, client, time_machine,
                                                              run_jobs):
    _accepted_with_missing(world, client, DUE)
    # the scheduler was down on Monday: Tuesday's run sends the reminder, once
    time_machine.move_to(shanghai("2026-12-08 09:30"), tick=False)
    jobs.tick()
    run_jobs()
    jobs.tick()
    run_jobs()
    daily = db.session.query(jobs.OutboxJob).filter_by(name=deadlines.MISSING_REMINDERS).all()
    assert len(daily) == 1 and daily[0].key == f"{deadlines.MISSING_REMINDERS}@2026-12-08"
    assert daily[0].status == jobs.JobStatus.DONE
    [soon] = _texts(world, "app_missing_soon")
    assert "还剩2个工作日" in soon


@pytest.mark.time_machine(START, tick=False)
def test_a_short_deadline_gets_only_the_last_day_reminder(world, client, time_machine):
    _accepted_with_missing(world, client, date(2026, 12, 2))  # Wednesday: 2 working days
    time_machine.move_to(shanghai("2026-12-01 09:00"), tick=False)
    assert deadlines.remind_missing() == {"soon": 0, "last_day": 0}
    time_machine.move_to(shanghai("2026-12-02 09:00"), tick=False)
    assert deadlines.remind_missing() == {"soon": 0, "last_day": 1}


@pytest.mark.time_machine(START, tick=False)
def test_quiet_hours_hold_the_reminder(app, world, client, time_machine):
    _accepted_with_missing(world, client, DUE)
    time_machine.move_to(shanghai("2026-12-11 06:30"), tick=False)  # a late or early run
    app.config["QUIET_HOURS"] = "22-8"
    try:
        assert deadlines.remind_missing()["last_day"] == 1
    finally:
        app.config["QUIET_HOURS"] = "0-0"
    [message] = world.sms("app_missing_last_day")
    assert message.send_after == shanghai("2026-12-11 08:00").astimezone(UTC).replace(
        tzinfo=None) and message.send_after > utcnow()
    job = db.session.get(jobs.OutboxJob, message.send_job_id)
    assert job.run_at == message.send_after and message.status == "queued"
