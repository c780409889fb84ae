"""The helper's five steps: named helper, notes, an SMS at each step, rating at the end."""

from html_kit import errors, has
from sqlalchemy import select

from app.core.models import AuditLog
from app.extensions import db
from app.ratings.models import RatingInvite


def _asked(world, auth, **kw):
    auth.login_citizen("13800138000")
    return world.ask(**kw)


def _step(client, row, action, text):
    return client.post(f"/staff/help/{row.id}/{action}", data={"text": text})


def test_the_five_steps_with_an_sms_each_and_a_rating(world, client, auth, as_staff):
    row = _asked(world, auth, **{k: v for k, v in world.home_form().items()})
    sc = as_staff(world.clerk)
    listing = sc.get("/staff/help").get_data(as_text=True)
    assert row.number in listing and "待接单" in listing
    assert sc.post(f"/staff/help/{row.id}/assign").status_code == 303
    db.session.refresh(row)
    assert row.helper_id == world.clerk.id
    assert _step(sc, row, "note", "已电话联系,约定明早上门").status_code == 303
    assert _step(sc, row, "review", "需迁入地房产证明").status_code == 303
    assert _step(sc, row, "feedback", "明天上午9点上门,请备好户口簿和身份证").status_code == 303
    assert _step(sc, row, "accept", "已上门核验材料并代为提交").status_code == 303
    db.session.refresh(row)
    assert row.status == "accepted" and row.closed_at is not None
    assert row.feedback == "明天上午9点上门,请备好户口簿和身份证"
    for template in ("help_feedback", "help_accepted"):
        assert [m.phone for m in world.sms(template)] == ["13800138000"], template
    for template in ("help_submitted", "help_reviewed", "rating_invite", "rating_invite_home"):
        assert world.sms(template) == [], template  # asked on screen; 初审 is the hall's step
    accepted = world.sms("help_accepted")[0].text
    assert "欢迎评价上门帮办服务" in accepted and accepted.count("/t/") == 2
    staff_page = sc.get(f"/staff/help/{row.id}").get_data(as_text=True)
    assert "已电话联系,约定明早上门" in staff_page  # the working note, for staff
    invite = db.session.scalar(select(RatingInvite).where(RatingInvite.entity == "help_request"))
    assert invite.entity_id == row.id and invite.clerk_id == world.clerk.id
    assert invite.channel == "onsite"

    view = client.get(f"/help/{row.id}").get_data(as_text=True)
    assert "明天上午9点上门" in view and "评价本次服务" in view
    assert "已电话联系" not in view  # staff notes stay with staff
    timeline = client.get(f"/progress/help_request/{row.id}").get_data(as_text=True)
    for words in ("已提交帮办申请(上门服务)", "帮办员王丽为您服务", "初审通过",
                  "帮办员反馈:明天上午9点上门", "已受理:已上门核验材料并代为提交"):
        assert words in timeline, words
    rated = client.post(f"/ratings/{invite.id}", data={"score": "5"})
    assert rated.status_code == 303, rated.get_data(as_text=True)
    assert has(client.get(f"/help/{row.id}"), ".help-step.is-done", "评价")


def test_a_helper_acting_on_a_request_not_assigned_to_them_gets_403(world, client, auth,
                                                                     as_staff):
    row = _asked(world, auth)
    sc = as_staff(world.clerk2)
    response = _step(sc, row, "review", "看看")
    assert response.status_code == 403
    assert "还没有指派帮办员,请先接单" in response.get_data(as_text=True)
    sc = as_staff(world.clerk)
    sc.post(f"/staff/help/{row.id}/assign")
    sc = as_staff(world.clerk2)
    for action in ("review", "note", "decline"):
        response = _step(sc, row, action, "抢着办")
        assert response.status_code == 403, action
        assert "已指派给王丽,只有指派的帮办员可以办理" in response.get_data(as_text=True)
    taken = sc.post(f"/staff/help/{row.id}/assign")
    assert taken.status_code == 403 and "已指派给王丽" in errors(taken)
    handed = sc.post(f"/staff/help/{row.id}/assign", data={"helper_id": world.admin.id})
    assert handed.status_code == 403
    assert "只有大厅管理员可以把帮办申请指派给其他人" in handed.get_data(as_text=True)
    booked = sc.post(f"/staff/help/{row.id}/behalf/application",
                         data={"item_id": world.item.id})
    assert booked.status_code == 403
    db.session.refresh(row)
    assert row.status == "submitted" and row.helper_id == world.clerk.id
    assert world.sms("help_reviewed") == []


def test_staff_of_another_hall_do_not_see_the_request(world, client, auth, as_staff):
    row = _asked(world, auth)
    sc = as_staff(world.far_clerk)
    assert row.number not in sc.get("/staff/help?show=all").get_data(as_text=True)
    for response in (sc.get(f"/staff/help/{row.id}"),
                     sc.post(f"/staff/help/{row.id}/assign")):
        assert response.status_code == 403  # outside their hall, and said so
        page = response.get_data(as_text=True)
        assert "其他大厅" in page and row.number not in page
    db.session.refresh(row)
    assert row.helper_id is None


def test_citizens_cannot_open_staff_pages(world, client, auth):
    row = _asked(world, auth)
    assert client.get("/staff/help").status_code == 403
    assert client.post(f"/staff/help/{row.id}/assign").status_code == 403


def test_the_admin_names_the_helper(world, client, auth, as_staff):
    row = _asked(world, auth)
    sc = as_staff(world.admin)
    page = sc.get(f"/staff/help/{row.id}").get_data(as_text=True)
    assert "赵敏" in page and "指派" in page
    bad = sc.post(f"/staff/help/{row.id}/assign", data={"helper_id": world.far_clerk.id})
    assert bad.status_code == 400 and "请选择本大厅的工作人员" in errors(bad)
    assert sc.post(f"/staff/help/{row.id}/assign",
                       data={"helper_id": world.clerk2.id}).status_code == 303
    sc.post(f"/staff/help/{row.id}/assign", data={"helper_id": world.clerk.id})
    db.session.refresh(row)
    assert row.helper_id == world.clerk.id
    notes = db.session.scalars(select(AuditLog.note).where(
        AuditLog.entity == "help_request", AuditLog.entity_id == row.id)).all()
    assert "帮办员由赵敏改为王丽" in notes
    sc = as_staff(world.clerk)
    assert row.number in sc.get("/staff/help?show=mine").get_data(as_text=True)


def test_a_step_without_text_is_refused_and_moves_out_of_order_are_409(world, client, auth,
                                                                        as_staff):
    row = _asked(world, auth)
    sc = as_staff(world.clerk)
    sc.post(f"/staff/help/{row.id}/assign")
    empty = _step(sc, row, "review", "  ")
    assert empty.status_code == 400 and "请填写初审意见" in errors(empty)
    early = _step(sc, row, "accept", "直接受理")
    assert early.status_code == 409 and "不能“已受理”" in errors(early)
    db.session.refresh(row)
    assert row.status == "submitted"
    declined = _step(sc, row, "decline", "该事项须本人到场,请预约到大厅办理")
    assert declined.status_code == 303
    db.session.refresh(row)
    assert row.status == "declined"
    assert [m.phone for m in world.sms("help_declined")] == ["13800138000"]
    assert world.sms("rating_invite") == []


def test_the_admin_keeps_the_service_area(world, client, auth, as_staff):
    sc = as_staff(world.clerk)
    assert sc.get("/staff/help/areas").status_code == 403
    sc = as_staff(world.admin)
    page = sc.get("/staff/help/areas").get_data(as_text=True)
    assert "葛根庙镇" in page and "索伦镇" not in page
    assert sc.post("/staff/help/areas", data={"name": "五一街道"}).status_code == 303
    duplicate = sc.post("/staff/help/areas", data={"name": "五一街道"})
    assert duplicate.status_code == 409 and "已在服务范围内" in errors(duplicate)
    empty = sc.post("/staff/help/areas", data={"name": ""})
    assert empty.status_code == 400 and "请输入街道或乡镇名称" in errors(empty)
    other = sc.post("/staff/help/areas", data={"remove": world.area("索伦镇").id})
    assert other.status_code == 404
    sc.post("/staff/help/areas", data={"remove": world.area("葛根庙镇").id})
    assert world.area("葛根庙镇") is None and world.area("五一街道") is not None
