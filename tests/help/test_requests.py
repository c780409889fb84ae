"""Asking for help: from a guide or care mode, the modes, contact details and the hall's area."""

import pytest
from html_kit import errors, field_value, has, hrefs, page_text
from sqlalchemy import func, select

from app.extensions import db
from app.help.models import HelpRequest


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(HelpRequest))


def test_the_guide_and_the_care_mode_home_offer_help(world, client):
    page = client.get(f"/services/{world.item.code}").get_data(as_text=True)
    assert f"/help/new?item={world.item.code}" in hrefs(page)
    assert not has(client.get("/"), "#care-help")
    client.set_cookie("care", "1")
    assert has(client.get("/"), "#care-help a", "申请上门服务")


def test_asking_needs_sign_in(world, client):
    response = client.get(f"/help/new?item={world.item.code}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_phone_call_back_is_recorded_with_its_sms_and_timeline(world, client, auth):
    auth.login_citizen("13800138000")
    page = client.get(f"/help/new?item={world.item.code}")
    assert "户口迁移(市内)" in page_text(page)
    assert field_value(page, "contact_phone") == "13800138000"
    row = world.ask()
    assert row.citizen_id == world.citizen.id and row.item_id == world.item.id
    assert row.mode == "phone" and row.status == "submitted" and row.number.startswith("BB")
    assert world.sms("help_submitted") == []  # asked on screen: the page says what happens
    view = client.get(f"/help/{row.id}").get_data(as_text=True)
    assert row.number in view and "已申请" in view and "138****8000" in view
    timeline = client.get(f"/progress/help_request/{row.id}").get_data(as_text=True)
    assert "已提交帮办申请(电话回访)" in timeline
    assert "帮办代办" in client.get("/progress/mine").get_data(as_text=True)


def test_the_contact_phone_gets_the_sms_too(world, client, auth):
    auth.login_citizen("13800138000")
    row = world.ask(contact_name="张小明", contact_phone="139-0013-9001")
    helper = world.as_staff(world.clerk, "secret-pass-1")
    helper.post(f"/staff/help/{row.id}/assign")
    helper.post(f"/staff/help/{row.id}/review", data={"text": "材料齐全"})
    assert helper.post(f"/staff/help/{row.id}/feedback",
                       data={"text": "明天上午9点给您回电"}).status_code == 303
    assert {m.phone for m in world.sms("help_feedback")} == {"13800138000", "13900139001"}


def test_not_sure_which_item_is_fine(world, client, auth):
    auth.login_citizen("13800138000")
    response = client.post("/help/new", data=world.form())
    assert response.status_code == 303
    assert db.session.scalar(select(HelpRequest)).title == "帮办代办(事项待确定)"


def test_missing_contact_details_are_refused_and_kept(world, client, auth):
    auth.login_citizen("13800138000")
    response = client.post(f"/help/new?item={world.item.code}", data=world.form(
        contact_name="", contact_phone="", details="想问问迁户口"))
    assert response.status_code == 400
    assert "请输入联系人姓名" in errors(response) and "请输入联系电话" in errors(response)
    assert field_value(response, "details") == "想问问迁户口"
    bad = client.post(f"/help/new?item={world.item.code}", data=world.form(
        contact_phone="12345", mode=""))
    assert bad.status_code == 400
    assert "请输入11位手机号码" in errors(bad) and "请选择帮办方式" in errors(bad)
    assert field_value(bad, "contact_phone") == "12345"
    assert _count() == 0


def test_a_home_visit_needs_address_reason_and_area(world, client, auth):
    auth.login_citizen("13800138000")
    response = client.post(f"/help/new?item={world.item.code}", data=world.form(mode="home"))
    assert response.status_code == 400
    assert "请填写上门地址" in errors(response) and "请说明不能到大厅的原因" in errors(response)
    assert "请选择您所在的街道或乡镇" in errors(response)
    assert _count() == 0
    row = world.ask(**{k: v for k, v in world.home_form().items() if k != "mode"}, mode="home")
    assert row.area.name == "兴安街道" and row.reason == "腿脚不便,独居"


@pytest.mark.parametrize("case", ["other", "other_hall_area", "address_elsewhere"])
def test_an_address_outside_the_halls_area_is_refused(world, client, auth, case):
    auth.login_citizen("13800138000")
    form = world.home_form()
    if case == "other":
        form["area_id"] = "other"
    elif case == "other_hall_area":
        form["area_id"] = str(world.area("索伦镇").id)
    else:
        form["address"] = "科尔沁右翼前旗索伦镇幸福村 3 组"
    response = client.post(f"/help/new?item={world.item.code}", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不在乌兰浩特市政务服务中心上门服务范围内" in errors(response)
    assert "和平街道、兴安街道、葛根庙镇" in page and "电话回访" in page
    assert field_value(response, "reason") == "腿脚不便,独居"  # what was typed is kept
    assert _count() == 0


def test_another_citizen_cannot_see_or_withdraw_a_request(world, client, auth):
    auth.login_citizen("13800138000")
    row = world.ask()
    auth.logout()
    auth.login_citizen("13900139000")
    for response in (client.get(f"/help/{row.id}"), client.post(f"/help/{row.id}/withdraw"),
                     client.post(f"/help/{row.id}/confirm", data={"code": "123456"})):
        assert response.status_code == 404
        assert "没有找到这条帮办申请" in response.get_data(as_text=True)
    assert row.number not in client.get("/help/mine").get_data(as_text=True)
    assert client.get(f"/progress/help_request/{row.id}").status_code == 404
    db.session.refresh(row)
    assert row.status == "submitted"


def test_the_citizen_withdraws(world, client, auth):
    auth.login_citizen("13800138000")
    row = world.ask()
    assert client.post(f"/help/{row.id}/withdraw").status_code == 303
    db.session.refresh(row)
    assert row.status == "withdrawn"
    again = client.post(f"/help/{row.id}/withdraw")
    assert again.status_code == 409 and "不能“已撤回”" in errors(again)
