"""Issue 21, point 4: for each journey, exactly which SMS reach the citizen's phone, in order.

Codes, booking confirmation and reminder, 补正, 通过/不予受理, 办结 (with the rating link inside),
and the help and report replies; nothing for what the person just did on screen (submitting,
asking, reporting, rating, cancelling) nor for the hall's own steps (a clerk opening a case,
开始办理, 初审, 补齐 after 容缺受理, contacting the rater). The rating invitation is worded for how
the person was served: only a visit thanks them for coming to the hall."""

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
    # one code per sign-in (the test signs in three times), then only the hall's decisions:
    # 容缺受理 is the acceptance, so 补齐 sends no second 预审通过
    assert [t for t in _templates() if t != "login_code"] == [
        "app_supplement", "app_accepted_missing", "app_completed"]
    completed = _sent()[-1]
    assert "已办结" in completed.text and "欢迎评价网上预审服务" in completed.text
    detail, rate = LINK.findall(completed.text)
    assert detail != rate and "感谢您到" not in completed.text
    auth.logout()
    assert client.get(rate.removeprefix("http://localhost")).status_code == 302


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_online_pre_review_accepted_at_once(client, auth, run_jobs):
    from applications.application_kit import photo
    from applications.conftest import World

    world = World(client, auth, run_jobs)
    row = world.draft()
    for position in (0, 1, 2):  # every material, the optional one too
        assert world.upload(row, position, photo()).status_code == 200
    assert client.post(f"/applications/{row.id}/submit").status_code == 303
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    data = {f"verdict-{m.id}": "ok" for m in row.materials}
    assert client.post(f"/review/{row.id}/decide",
                       data={**data, "decision": "accept"}).status_code == 303
    for step in ("processing", "completed"):
        assert client.post(f"/review/{row.id}/{step}").status_code == 303, step
    run_jobs()
    assert [t for t in _templates() if t != "login_code"] == ["app_accepted", "app_completed"]
    assert "预审通过" in _sent()[-2].text


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
    world, _phone = _served_visit(app, client, auth)
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


def _served_visit(app, client, auth):
    """A window visit booked, reminded and served: the citizen's phone (signed in) and the
    booking World, with `client` signed in as the clerk who served them."""
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
    return world, phone


@pytest.mark.parametrize("answer", ["fix", "explain"])
@pytest.mark.time_machine(shanghai("2026-12-02 08:30"), tick=True)  # a Wednesday, early
def test_bad_rating_from_the_sms_and_its_answer(app, client, auth, run_jobs, answer):
    from app.ratings.models import Rectification

    world, phone = _served_visit(app, client, auth)
    world.admin.phone = "13900139009"
    db.session.commit()
    run_jobs()
    rate = LINK.search(_sent()[-1].text).group().removeprefix("http://localhost")
    tapped = app.test_client()  # the SMS opens a fresh in-app browser, signed out
    invite_page = tapped.get(rate).headers["Location"]
    invite_id = int(invite_page.rsplit("/", 1)[1])
    assert tapped.post(f"/ratings/{invite_id}", data={
        "score": 2, "reason": ["slow", "attitude"]}).status_code == 303
    case = db.session.scalar(select(Rectification))
    admin = app.test_client()
    Auth(admin).login_staff("admin1", "secret-pass-2")
    if answer == "fix":  # contacted on the phone (no SMS: they spoke), put right, then verified
        assert admin.post(f"/ratings/cases/{case.id}/contact", data={
            "method": "phone", "plan": "simple", "note": "电话联系,说明排队原因",
            "reply": "已电话联系您,我们将增开窗口。"}).status_code == 303
        assert admin.post(f"/ratings/cases/{case.id}/fix", data={
            "note": "高峰期增开两个窗口", "reply": "已在高峰期增开两个窗口。"}).status_code == 303
        assert phone.post(f"/ratings/r/{case.rating_id}/outcome",
                          data={"score": 4}).status_code == 303
        assert admin.post(f"/ratings/cases/{case.id}/verify", data={
            "satisfied": "yes", "note": "回访满意"}).status_code == 303
    else:
        assert admin.post(f"/ratings/cases/{case.id}/explain", data={
            "reply": "依据规定须本人到场办理。"}).status_code == 303
        assert phone.post(f"/ratings/r/{case.rating_id}/outcome",
                          data={"score": 3}).status_code == 303
    run_jobs()
    assert [t for t in _templates() if t != "login_code"] == [
        "booking_confirmed", "booking_reminder", "rating_invite", "rating_reply"]
    reply = _sent()[-1]
    assert "您的评价已有答复" in reply.text and LINK.search(reply.text)
    assert _templates(world.admin.phone) == []  # the case waits on the staff pages


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_question_asked_and_answered(app, run_jobs):
    from feedback.conftest import World

    from app.feedback.models import Question

    world = World(app)
    me = world.client_for(world.citizen)
    assert me.post(f"/feedback/ask/{world.item.code}",
                   data={"text": "户口迁到外地后身份证要重新办吗?"}).status_code == 303
    question = db.session.scalar(select(Question))
    clerk = world.client_for(world.clerk)
    for text in ("身份证号码不变,有效期内可继续使用。", "身份证号码不变;也可申请换领。"):
        assert clerk.post(f"/feedback/staff/questions/{question.id}/answer",
                          data={"answer": text}).status_code == 303
    run_jobs()
    # asking is their own act on screen, a corrected answer shows on the page it links to
    assert _templates() == ["feedback_question_answered"]
    assert "提问已有答复" in _sent()[-1].text and LINK.search(_sent()[-1].text)
    assert _templates(world.admin.phone) == []  # questions go to the department's list


@pytest.mark.parametrize("who", ["hall", "citizen"])
@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday
def test_booking_cancelled(app, client, auth, run_jobs, who):
    from datetime import date

    from booking.conftest import World

    from app.booking.jobs import remind
    from app.booking.models import Booking

    world = World(app)
    friday = date(2026, 12, 4)
    phone = app.test_client()
    Auth(phone).login_citizen(PHONE)
    assert world.book(phone, world.slot(0, friday), idem="j").status_code == 303
    booking = db.session.scalars(select(Booking)).one()
    if who == "hall":  # the admin closes Friday and confirms the one booking it touches
        auth.login_staff("admin1", "secret-pass-2")
        assert client.post("/admin/booking/days", data={
            "day": friday.isoformat(), "kind": "holiday", "name": "设备检修",
            "confirm": "1"}).status_code == 303
    else:
        assert phone.post(f"/bookings/{booking.id}/cancel").status_code == 303
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    remind(booking.id)  # the day-before job finds it cancelled
    run_jobs()
    expected = ["login_code", "booking_confirmed"]
    if who == "hall":  # the citizen did not do it, so they hear of it, with a way to rebook
        expected.append("booking_hall_cancelled")
    assert _templates() == expected
    if who == "hall":
        text = _sent()[-1].text
        assert "因设备检修闭厅" in text and "不计爽约" in text and LINK.search(text)
