"""大厅与窗口 on a phone (issue 22, point 7): a city-wide admin adds and edits halls; a hall's admin
edits the hall's windows (number, name, items served, open or closed today)."""

from datetime import timedelta

import pytest
from conftest import shanghai
from html_kit import button, errors, field_value, is_fragment, link, text_of, texts

import factories
from app.auth.models import Role
from app.catalog.models import Hall, Window
from app.extensions import db

WEDNESDAY = shanghai("2026-12-02 10:00")
HALL = {"name": "科尔沁右翼前旗政务服务中心", "short_name": "前旗大厅",
        "address": "前旗大坝沟镇兴安路 8 号", "hours": "工作日 8:30-12:00,13:30-17:00",
        "phone": "0482-4612345", "map_url": "https://uri.amap.com/marker?position=121.9,46.1",
        "area": "科右前旗"}


@pytest.fixture
def hall():
    return factories.hall(name="甲大厅", short_name="甲厅")


@pytest.fixture
def city(client):
    factories.sign_in(client, factories.staff("city", "secret-pass-9", Role.ADMIN, None))
    return client


@pytest.fixture
def hall_admin(client, hall):
    factories.sign_in(client, factories.staff("admin1", "secret-pass-2", Role.ADMIN, hall))
    return client


def test_halls_and_windows_are_for_admins_only(client, hall):
    """Adding and editing halls is the city's (a hall admin is refused: see below); the hall
    list and each hall's windows are for admins: the hall's own clerk is refused every page."""
    factories.sign_in(client, factories.staff("clerk1", "secret-pass-3", Role.CLERK, hall))
    window = hall.windows[0]
    data = {"code": "A01", "name": "综合受理窗口", "group": "A"}
    for method, path, form in [
            ("GET", "/admin/halls", None), ("GET", "/admin/halls/new", None),
            ("POST", f"/admin/halls/{hall.id}/edit", HALL),
            ("GET", f"/admin/halls/{hall.id}/windows", None),
            ("GET", f"/admin/halls/{hall.id}/windows/new", None),
            ("POST", f"/admin/windows/{window.id}/edit", data),
            ("POST", f"/admin/windows/{window.id}/today", {"open": "0"})]:
        assert client.open(path, method=method, data=form or {}).status_code == 403, path
    assert db.session.get(Window, window.id).name != "综合受理窗口"


def test_city_admin_adds_a_hall_the_public_sees(app, city):
    response = city.post("/admin/halls/new", data=HALL)
    assert response.status_code == 303
    row = db.session.query(Hall).filter_by(name=HALL["name"]).one()
    assert response.headers["Location"] == f"/admin/halls/{row.id}/windows"
    assert (row.map_url, row.area, row.phone) == (HALL["map_url"], "科右前旗", "0482-4612345")
    page = app.test_client().get("/halls")
    assert link(page, "在地图上查看")["href"] == "https://uri.amap.com/marker?position=121.9,46.1"
    assert "服务区域:科右前旗" in texts(page, "p.muted")


def test_city_admin_edits_a_hall(city, hall):
    page = city.get(f"/admin/halls/{hall.id}/edit")
    assert field_value(page, "name") == "甲大厅"
    data = {**HALL, "name": "甲大厅", "hours": "周一至周六 9:00-17:00"}
    assert city.post(f"/admin/halls/{hall.id}/edit", data=data).status_code == 303
    assert db.session.get(Hall, hall.id).hours == "周一至周六 9:00-17:00"


@pytest.mark.parametrize("field,value,message", [
    ("name", "", "请输入大厅名称"),
    ("phone", "打电话<b>", "请输入正确的咨询电话"),
    ("map_url", "javascript:alert(1)", "地图链接应以 https:// 开头"),
    ("address", "路" * 201, "地址不能超过 200 个字"),
])
def test_bad_hall_input_is_400_in_chinese_and_kept(city, field, value, message):
    response = city.post("/admin/halls/new", data={**HALL, field: value})
    assert response.status_code == 400 and message in text_of(response, f"#f-{field}-error")
    assert field_value(response, "address") == "前旗大坝沟镇兴安路 8 号" or field == "address"
    if field == "phone":
        assert field_value(response, "phone") == "打电话<b>"
    assert db.session.query(Hall).count() == 0


def test_a_second_hall_of_the_same_name_is_refused(city, hall):
    response = city.post("/admin/halls/new", data={**HALL, "name": "甲大厅"})
    assert response.status_code == 400 and "已有同名的大厅" in text_of(response, "#f-name-error")


def test_a_hall_admin_sees_their_hall_but_adds_or_edits_none(hall_admin, hall):
    far = factories.hall(name="乙大厅")
    page = hall_admin.get("/admin/halls").get_data(as_text=True)
    assert "甲大厅" in page and "乙大厅" not in page and "新增大厅" not in page
    assert hall_admin.get("/admin/halls/new").status_code == 403
    assert hall_admin.post(f"/admin/halls/{hall.id}/edit", data=HALL).status_code == 403
    assert hall_admin.get(f"/admin/halls/{far.id}/windows").status_code == 403
    assert db.session.get(Hall, hall.id).name == "甲大厅"


def test_hall_admin_adds_a_window_serving_the_halls_items(hall_admin, hall):
    item = factories.item(name="身份证换领", halls=[hall])
    other = factories.item(name="别的大厅的事项", halls=[factories.hall()])
    page = hall_admin.get(f"/admin/halls/{hall.id}/windows/new").get_data(as_text=True)
    assert "身份证换领" in page and "别的大厅的事项" not in page
    response = hall_admin.post(f"/admin/halls/{hall.id}/windows/new", data={
        "code": "b02", "name": "户籍窗口", "group": "b", "item_ids": [item.id]})
    assert response.status_code == 303
    window = db.session.query(Window).filter_by(code="B02").one()
    assert (window.hall_id, window.group, [i.id for i in window.items]) == (hall.id, "B",
                                                                          [item.id])
    response = hall_admin.post(f"/admin/halls/{hall.id}/windows/new", data={
        "code": "B03", "name": "户籍窗口二", "group": "B", "item_ids": [other.id]})
    assert response.status_code == 400
    assert "只能选择本大厅办理的事项" in text_of(response, "#f-item_ids-error")


@pytest.mark.parametrize("form,message", [
    ({"code": "A01", "name": "重复", "group": "A"}, "本大厅已有 A01 号窗口"),
    ({"code": "A 01!", "name": "怪编号", "group": "A"}, "窗口编号只能用字母、数字和短横线"),
    ({"code": "C01", "name": "", "group": "A"}, "请输入窗口名称"),
    ({"code": "C01", "name": "分组不对", "group": "甲"}, "叫号分组只能用字母或数字"),
])
def test_bad_window_input_is_400_in_chinese_and_kept(hall_admin, hall, form, message):
    response = hall_admin.post(f"/admin/halls/{hall.id}/windows/new", data=form)
    assert response.status_code == 400 and message in text_of(response, ".field-error")
    assert field_value(response, "name") == form["name"]
    assert db.session.query(Window).count() == 1  # the factory's A01 only


def test_hall_admin_edits_a_window_but_not_another_halls(hall_admin, hall):
    window = hall.windows[0]
    data = {"code": "A01", "name": "综合受理窗口", "group": "A"}
    assert hall_admin.post(f"/admin/windows/{window.id}/edit", data=data).status_code == 303
    assert db.session.get(Window, window.id).name == "综合受理窗口"
    far = factories.hall()
    assert hall_admin.post(f"/admin/windows/{far.windows[0].id}/edit",
                           data=data).status_code == 403
    assert hall_admin.post(f"/admin/windows/{far.windows[0].id}/today",
                           data={"open": "0"}).status_code == 403
    assert hall_admin.get("/admin/windows/99999/edit").status_code == 404


def test_city_admin_edits_any_halls_windows(city, hall):
    window = hall.windows[0]
    data = {"code": "A01", "name": "市里改的", "group": "A"}
    assert city.post(f"/admin/windows/{window.id}/edit", data=data).status_code == 303


def test_a_window_closed_today_opens_again_tomorrow(app, hall, time_machine):
    admin = factories.staff("admin1", "secret-pass-2", Role.ADMIN, hall)

    def signed_in():  # a sign-in at the time set (sessions expire with the clock)
        client = app.test_client()
        factories.sign_in(client, admin)
        return client

    time_machine.move_to(WEDNESDAY, tick=False)
    window = hall.windows[0]
    response = signed_in().post(f"/admin/windows/{window.id}/today", data={"open": "0"},
                                headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and is_fragment(fragment)
    row = text_of(fragment, f"div.window-row#window-{window.id}")
    assert "今日暂停" in row and button(fragment, "恢复今日开放")
    assert db.session.get(Window, window.id).closed_on == WEDNESDAY.date()
    time_machine.move_to(WEDNESDAY + timedelta(days=1), tick=False)
    page = signed_in().get(f"/admin/halls/{hall.id}/windows").get_data(as_text=True)
    assert "今日开放" in page and "今日暂停服务" in page
    time_machine.move_to(WEDNESDAY, tick=False)
    client = signed_in()
    response = client.post(f"/admin/windows/{window.id}/today", data={"open": "1"})
    assert response.status_code == 303 and db.session.get(Window, window.id).closed_on is None
    response = client.post(f"/admin/windows/{window.id}/today", data={"open": "maybe"})
    assert response.status_code == 400 and "请选择今日开放或暂停服务" in errors(response)
