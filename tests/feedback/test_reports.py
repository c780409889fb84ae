"""办不成事: reporting, the hall's first reply and resolution, each step told and timelined."""

from datetime import timedelta

import pytest
from html_kit import errors, field_value, has
from sqlalchemy import select

from app.core.models import AuditLog
from app.core.timeutil import utcnow
from app.extensions import db
from app.feedback.models import UnresolvedReport


def _report(client, world, **override):
    data = {"item": world.item.code, "hall": str(world.hall.id),
            "description": "窗口说系统维护,让我改天再来,已经跑了两次。", **override}
    return client.post("/feedback/report", data=data)


def test_a_report_reaches_the_hall_admin_at_once_and_the_citizen_gets_a_receipt(world, me):
    page = me.get(f"/feedback/report?item={world.item.code}")
    assert page.status_code == 200
    assert "户口迁移" in page.get_data(as_text=True)

    response = _report(me, world)
    assert response.status_code == 303
    report = db.session.scalar(select(UnresolvedReport))
    assert response.headers["Location"].endswith(f"/feedback/reports/{report.id}")
    assert (report.citizen_id, report.item_id, report.hall_id) == (
        world.citizen.id, world.item.id, world.hall.id)
    assert report.status == "received" and report.number.startswith("BC")
    # the hall's admin hears at once; the other hall's admin does not
    [to_admin] = world.sms("feedback_report_new")
    assert to_admin.phone == world.admin.phone and report.number in to_admin.text
    # no SMS to the citizen: they have just sent it, and the page says when we answer
    assert world.sms("feedback_report_received", world.citizen.phone) == []
    view = me.get(f"/feedback/reports/{report.id}").get_data(as_text=True)
    assert report.number in view and "窗口说系统维护" in view
    # the hall's list shows it to the admin
    admin = world.client_for(world.admin)
    assert report.number in admin.get("/feedback/staff/reports").get_data(as_text=True)


def test_reply_and_resolution_are_in_the_timeline_with_an_sms_each(world, me):
    _report(me, world)
    report = db.session.scalar(select(UnresolvedReport))
    admin = world.client_for(world.admin)
    response = admin.post(f"/feedback/staff/reports/{report.id}/reply",
                          data={"reply": "已联系不动产窗口,明天上午可直接到 B01 窗口办理。"})
    assert response.status_code == 303
    db.session.refresh(report)
    assert report.status == "replied" and report.replied_by_id == world.admin.id
    assert not report.reply_overdue(utcnow())
    assert len(world.sms("feedback_report_replied", world.citizen.phone)) == 1

    admin.post(f"/feedback/staff/reports/{report.id}/resolve",
               data={"resolution": "已于今天在 B01 窗口办结,证件已领取。"})
    db.session.refresh(report)
    assert report.status == "resolved" and report.resolved_at is not None
    assert len(world.sms("feedback_report_resolved", world.citizen.phone)) == 1

    timeline = me.get(f"/progress/unresolved_report/{report.id}").get_data(as_text=True)
    for words in ("已收到您的办不成事反映", "明天上午可直接到 B01 窗口办理", "已办结:已于今天"):
        assert words in timeline
    assert timeline.index("已办结") < timeline.index("已收到您的办不成事反映")  # newest first
    mine = me.get("/progress/mine").get_data(as_text=True)
    assert report.number in mine and "已办结" in mine
    steps = db.session.scalars(select(AuditLog.to_status).where(
        AuditLog.entity == "unresolved_report").order_by(AuditLog.id)).all()
    assert steps == ["received", "replied", "resolved"]


def test_resolving_at_once_counts_as_the_first_reply(world, me):
    _report(me, world)
    report = db.session.scalar(select(UnresolvedReport))
    world.client_for(world.clerk).post(f"/feedback/staff/reports/{report.id}/resolve",
                                       data={"resolution": "当场核实后已为您办理完毕。"})
    db.session.refresh(report)
    assert report.replied_at == report.resolved_at and report.reply == report.resolution


def test_the_sms_link_opens_the_timeline_without_signing_in(world, me, app):
    _report(me, world)
    report = db.session.scalar(select(UnresolvedReport))
    world.client_for(world.admin).post(f"/feedback/staff/reports/{report.id}/reply",
                                       data={"reply": "已联系不动产窗口,明天上午可直接办理。"})
    [reply] = world.sms("feedback_report_replied")
    token = reply.params["link"].rsplit("/t/", 1)[1]
    stranger_browser = app.test_client()
    opened = stranger_browser.get(f"/t/{token}")
    assert opened.status_code == 302 and "/progress/unresolved_report/" in opened.location
    report = db.session.scalar(select(UnresolvedReport))
    assert stranger_browser.get(f"/feedback/reports/{report.id}").status_code == 200


# ---- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("item", "", "请选择要办的事项"),
    ("item", "NO-SUCH", "没有找到这个事项"),
    ("hall", "", "请选择在哪个大厅办理"),
    ("hall", "99999", "没有找到这个大厅"),
    ("description", "", "请填写遇到的情况"),
    ("description", "没办成", "太短了"),
    ("description", "字" * 1001, "不能超过 1000 个字"),
])
def test_missing_or_wrong_fields_are_refused_in_chinese_and_keep_what_was_typed(
        world, me, field, value, message):
    response = _report(me, world, **{field: value})
    assert response.status_code == 400
    assert has(response, ".error-summary", message)
    if field != "description":
        # what the person typed is kept
        assert "窗口说系统维护,让我改天再来" in field_value(response, "description")
    assert db.session.scalar(select(UnresolvedReport.id)) is None
    assert world.sms("feedback_report_new") == []


def test_a_report_on_an_item_of_another_hall_is_refused(world, me):
    response = _report(me, world, item=world.other_item.code)
    assert response.status_code == 422
    assert "乌兰浩特大厅不办理“前旗户口登记”" in errors(response) and "前旗大厅" in errors(response)
    assert "窗口说系统维护" in field_value(response, "description")
    assert db.session.scalar(select(UnresolvedReport.id)) is None


def test_another_citizen_cannot_see_a_report(world, me):
    _report(me, world)
    report = db.session.scalar(select(UnresolvedReport))
    other = world.client_for(world.stranger)
    response = other.get(f"/feedback/reports/{report.id}")
    assert response.status_code == 404 and "只能查看本人提交的反映" in errors(response)
    assert other.get(f"/progress/unresolved_report/{report.id}").status_code == 404
    assert world.client_for(world.stranger).get("/feedback/staff/reports").status_code == 403


def test_staff_of_another_hall_can_neither_see_nor_answer_it(world, me):
    _report(me, world)
    report = db.session.scalar(select(UnresolvedReport))
    other = world.client_for(world.other_admin)
    assert report.number not in other.get("/feedback/staff/reports").get_data(as_text=True)
    page = other.get(f"/feedback/staff/reports/{report.id}")
    assert page.status_code == 403 and "其他大厅" in errors(page)
    response = other.post(f"/feedback/staff/reports/{report.id}/reply",
                          data={"reply": "我来答复这条反映。"})
    assert response.status_code == 403
    db.session.refresh(report)
    assert report.status == "received"


def test_an_empty_reply_and_a_second_resolution_are_refused(world, me):
    _report(me, world)
    report = db.session.scalar(select(UnresolvedReport))
    admin = world.client_for(world.admin)
    empty = admin.post(f"/feedback/staff/reports/{report.id}/reply", data={"reply": " "})
    assert empty.status_code == 400 and "请填写答复内容" in errors(empty)
    admin.post(f"/feedback/staff/reports/{report.id}/resolve", data={"resolution": "已办结完毕。"})
    again = admin.post(f"/feedback/staff/reports/{report.id}/reply",
                       data={"reply": "再答复一次试试。"})
    assert again.status_code == 409 and "已经处理过" in errors(again)
    assert len(world.sms("feedback_report_resolved")) == 1
    db.session.refresh(report)
    assert report.status == "resolved" and report.reply == "已办结完毕。"
    moves = db.session.execute(select(AuditLog.from_status, AuditLog.to_status).where(
        AuditLog.entity == "unresolved_report").order_by(AuditLog.id)).all()
    assert [tuple(m) for m in moves] == [(None, "received"), ("received", "resolved")]


def test_signing_in_is_needed_to_report(world, client):
    response = client.get(f"/feedback/report?item={world.item.code}")
    assert response.status_code == 302 and "/login" in response.location


# ---- the 工作台 flags overdue reports ----------------------------------------------------------

def test_the_staff_home_flags_an_overdue_report_of_its_own_hall_only(world, me):
    _report(me, world)
    report = db.session.scalar(select(UnresolvedReport))
    admin = world.client_for(world.admin)
    home = admin.get("/staff")
    assert has(home, "#feedback-open") and not has(home, "#feedback-overdue")

    report.created_at = utcnow() - timedelta(days=10)
    report.reply_due_at = utcnow() - timedelta(days=10)
    report.resolve_due_at = utcnow() + timedelta(days=1)
    db.session.commit()
    home = admin.get("/staff")
    assert has(home, "#feedback-overdue .badge", "答复已逾期")
    assert has(home, "#feedback-overdue a", report.number)
    other_home = world.client_for(world.other_admin).get("/staff").get_data(as_text=True)
    assert report.number not in other_home

    admin.post(f"/feedback/staff/reports/{report.id}/reply",
               data={"reply": "抱歉回复晚了,已处理。"})
    home = admin.get("/staff")
    assert not has(home, "#feedback-overdue")  # replied, and the resolution clock still runs

    report.resolve_due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    home = admin.get("/staff").get_data(as_text=True)
    assert "办结已逾期" in home
    listing = admin.get("/feedback/staff/reports").get_data(as_text=True)
    assert "is-overdue" in listing and "办结已逾期" in listing


def test_the_report_number_finds_it_for_the_lookup(world, me):
    from app.progress.services import find_by_number

    _report(me, world)
    report = db.session.scalar(select(UnresolvedReport))
    assert find_by_number(report.number).id == report.id
    assert find_by_number(report.number[:-1] + "9") is None


def test_every_missing_field_is_told_at_once(world, me):
    response = me.post("/feedback/report", data={"item": "", "hall": "", "description": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("请选择要办的事项", "请选择在哪个大厅办理", "请填写遇到的情况"):
        assert page.count(message) == 2  # in the summary and beside its field
