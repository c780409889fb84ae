"""Issue 21, point 4: for each journey, exactly which SMS reach the citizen's phone, in order.

Codes, booking confirmation and reminder, 补正, 通过/不予受理, 办结 (with the rating link inside),
and the help and report replies; nothing for what the person just did on screen (submitting,
asking, reporting) nor for the hall's own steps (a clerk opening a case, 开始办理, 初审). The
rating invitation is worded for how the person was served: only a visit thanks them for coming
to the hall."""

import re

import pytest
from conftest import Auth, shanghai
from sqlalchemy import select

from app.extensions import db
from app.sms.models import SmsMessage

PHONE = "13800138000"
LINK = re.compile(r"http://localhost/t/\w+")


def _sent(phone: str = PHONE) -> list[SmsMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(SmsMessage).where(SmsMessage.phone == phone)
                                   .order_by(SmsMessage.id)))


def _templates(phone: str = PHONE) -> list[str]:
    return [m.template for m in _sent(phone)]


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday morning
def test_online_pre_review_supplement_missing_supplied_completed(client, auth, run_jobs):
    from applications.application_kit import photo
    from applications.conftest import World

    from app.applications import decisions

    world = World(client, auth, run_jobs)
    row = world.submitted()
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    data = {f"verdict-{m.id}": "ok" for m in row.materials}
    flagged = row.materials[1]
    data[f"verdict-{row.materials[2].id}"] = "missing"
    assert client.post(f"/review/{row.id}/decide", data={
        **data, "decision": "supplement", f"verdict-{flagged.id}": "fix",
        f"fix-{flagged.id}": "blurry"}).status_code == 303
    world.as_citizen()
    assert world.upload(row, 1, photo()).status_code == 200
    assert client.post(f"/applications/{row.id}/submit").status_code == 303
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    assert client.post(f"/review/{row.id}/decide", data={
        **data, "decision": "accept_missing",
        "due": decisions.max_due(row).isoformat()}).status_code == 303
    for step in ("supplied", "processing", "completed"):
        assert client.post(f"/review/{row.id}/{step}").status_code == 303, step
    run_jobs()
    # one code per sign-in (the test signs in three times), then only the hall's decisions
    assert [t for t in _templates() if t != "login_code"] == [
        "app_supplement", "app_accepted_missing", "app_accepted", "app_completed"]
    completed = _sent()[-1]
    assert "已办结" in completed.text and "欢迎评价网上预审服务" in completed.text
    detail, rate = LINK.findall(completed.text)
    assert detail != rate and "感谢您到" not in completed.text
    auth.logout()
    assert client.get(rate.removeprefix("http://localhost")).status_code == 302


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_online_pre_review_rejected(client, auth, run_jobs):
    from applications.conftest import World

    world = World(client, auth, run_jobs)
    row = world.submitted()
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    data = {f"verdict-{m.id}": "ok" for m in row.materials}
    client.post(f"/review/{row.id}/decide", data={**data, "decision": "reject",
                                                  "reason": "not_eligible"})
    run_jobs()
    assert _templates() == ["login_code", "app_rejected"]
    rejected = _sent()[-1]
    assert "不予受理" in rejected.text and len(LINK.findall(rejected.text)) == 2


@pytest.mark.time_machine(shanghai("2026-12-02 08:30"), tick=True)  # a Wednesday, early
def test_window_visit_booked_reminded_served(app, client, auth, run_jobs):
    from booking.conftest import World

    from app.booking.jobs import remind
    from app.booking.models import Booking, Ticket

    world = World(app)
    slot = world.soon_slot(90)
    phone = app.test_client()
    Auth(phone).login_citizen(PHONE)
    assert world.book(phone, slot, idem="j").status_code == 303
    booking = db.session.scalars(select(Booking)).one()
    remind(booking.id)
    auth.login_staff("clerk1", "secret-pass-1")
    client.post("/clerk/queue/window", data={"window_id": world.hall.windows[0].id})
    client.post("/clerk/queue/checkin", data={"number": booking.number})
    client.post("/clerk/queue/call")
    ticket = db.session.scalar(select(Ticket).where(Ticket.booking_id == booking.id))
    client.post(f"/clerk/queue/{ticket.id}/served")
    run_jobs()
    assert _templates() == ["login_code", "booking_confirmed", "booking_reminder",
                            "rating_invite"]
    invite = _sent()[-1]
    assert f"感谢您到{world.hall.short_name}办事" in invite.text and LINK.search(invite.text)


@pytest.mark.parametrize("mode, words", [("phone", "电话帮办"), ("home", "上门帮办"),
                                         ("hall", "大厅帮办")])
@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_assisted_handling(app, client, auth, run_jobs, mode, words):
    from help.conftest import PASSWORDS, World

    world = World(app, client, auth)
    auth.login_citizen(PHONE)
    form = world.home_form() if mode == "home" else world.form(mode=mode)
    row = world.ask(**form)
    helper = world.as_staff(world.clerk, PASSWORDS["clerk1"])
    helper.post(f"/staff/help/{row.id}/assign")
    for action, text in [("review", "材料齐全"), ("feedback", "明天上午9点联系您"),
                         ("accept", "已代为提交")]:
        assert helper.post(f"/staff/help/{row.id}/{action}", data={"text": text}).status_code \
            == 303, action
    run_jobs()
    assert _templates() == ["login_code", "help_feedback", "help_accepted"]
    accepted = _sent()[-1]
    assert f"欢迎评价{words}服务" in accepted.text and len(LINK.findall(accepted.text)) == 2
    assert "感谢您到" not in accepted.text


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_unresolved_matter_report(app, run_jobs):
    from feedback.conftest import World

    world = World(app)
    me = world.client_for(world.citizen)
    me.post("/feedback/report", data={"item": world.item.code, "hall": str(world.hall.id),
                                      "description": "窗口说系统维护,让我改天再来,已经跑了两次。"})
    from app.feedback.models import UnresolvedReport

    report = db.session.scalar(select(UnresolvedReport))
    admin = world.client_for(world.admin)
    assert admin.post(f"/feedback/staff/reports/{report.id}/reply", data={
        "reply": "已联系不动产窗口,明天上午可直接到 B01 窗口办理。"}).status_code == 303
    assert admin.post(f"/feedback/staff/reports/{report.id}/resolve", data={
        "resolution": "已于今天在 B01 窗口办结,证件已领取。"}).status_code == 303
    run_jobs()
    assert _templates() == ["feedback_report_replied", "feedback_report_resolved"]
    assert _templates(world.admin.phone) == ["feedback_report_new"]
