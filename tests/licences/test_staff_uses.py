"""用证记录 on the staff side (issue 23): every staff look at a licence is recorded, and the
staff page lists the uses at their hall, newest first, numbers masked, a clerk's repeated looks
at one licence within 10 minutes told once."""

from datetime import date, timedelta

import pytest
from conftest import shanghai
from html_kit import hrefs, texts
from licences.licence_kit import PASSWORD, World, _staff
from sqlalchemy import func, select

from app.extensions import db
from app.licences.models import Licence, LicenceShow, LicenceUse

WHEN = shanghai("2026-12-02 10:00")  # a Wednesday morning
ID_NUMBER = "150102199003071234"


@pytest.fixture
def world(app):
    return World(app)


def _licence(world, number="JZ-USE-1", hall=None) -> Licence:
    row = Licence(type_code="residence_permit", number=number, holder_name="张三",
                  holder_user_id=world.citizen.id, department="公安局",
                  hall_id=(hall or world.hall).id, issued_on=date(2026, 1, 1))
    db.session.add(row)
    db.session.commit()
    return row


def _rows(response) -> list[str]:
    return texts(response, "#licence-uses li")


def _uses(licence, kind) -> int:
    return db.session.scalar(select(func.count()).select_from(LicenceUse).where(
        LicenceUse.licence_id == licence.id, LicenceUse.kind == kind))


def _city_admin(world):
    city = _staff("city1", None, role="admin")
    client = world.app.test_client()
    assert client.post("/staff/login", data={"username": city.username,
                                             "password": PASSWORD}).status_code == 303
    return client


def test_every_staff_look_at_a_licence_is_recorded(world, time_machine):
    time_machine.move_to(WHEN, tick=False)
    licence = _licence(world)
    clerk = world.client(world.clerk)
    for _ in range(2):
        assert clerk.get(f"/staff/licences/{licence.id}").status_code == 200
    assert _uses(licence, "staff_view") == 2
    # A change is made from the page, and opening for it is a look too.
    clerk.post(f"/staff/licences/{licence.id}/revoke", data={"reason": ""})
    assert _uses(licence, "staff_view") == 3
    # A city-wide admin's look is recorded at the licence's hall, so the hall sees it.
    _city_admin(world).get(f"/staff/licences/{licence.id}")
    looks = db.session.scalars(select(LicenceUse).where(
        LicenceUse.licence_id == licence.id)).all()
    assert len(looks) == 4 and {u.hall_id for u in looks} == {world.hall.id}
    # Refused looks record nothing.
    world.client(world.far_clerk).get(f"/staff/licences/{licence.id}")
    assert _uses(licence, "staff_view") == 4


def test_the_hall_list_collapses_a_clerks_looks_within_ten_minutes(world, time_machine):
    time_machine.move_to(WHEN, tick=False)
    licence, other = _licence(world), _licence(world, number="JZ-USE-2")
    clerk, admin = world.client(world.clerk), world.client(world.admin)
    for minutes in (0, 4, 9):  # one sitting: one row
        time_machine.move_to(WHEN + timedelta(minutes=minutes), tick=False)
        clerk.get(f"/staff/licences/{licence.id}")
    time_machine.move_to(WHEN + timedelta(minutes=10), tick=False)
    admin.get(f"/staff/licences/{licence.id}")  # another person: their own row
    clerk.get(f"/staff/licences/{other.id}")  # another licence: its own row
    time_machine.move_to(WHEN + timedelta(minutes=25), tick=False)
    clerk.get(f"/staff/licences/{licence.id}")  # 16 minutes after the last: a new row
    response = clerk.get("/staff/licences/uses")
    assert response.status_code == 200
    rows = _rows(response)
    assert len(rows) == 4, rows
    assert "10:25" in rows[0] and "JZ-USE-1" in rows[0] and "共" not in rows[0]
    assert "JZ-USE-2" in rows[1] and "窗口clerk1" in rows[1]
    assert "JZ-USE-1" in rows[2] and "窗口admin1" in rows[2]
    assert "窗口clerk1" in rows[3] and "共 3 次" in rows[3] and "10:09" in rows[3]
    assert "最早" in rows[3] and "10:00" in rows[3]


def test_looks_ten_minutes_apart_still_collapse_but_not_eleven(world, time_machine):
    time_machine.move_to(WHEN, tick=False)
    licence = _licence(world)
    clerk = world.client(world.clerk)
    for minutes in (0, 10, 21):
        time_machine.move_to(WHEN + timedelta(minutes=minutes), tick=False)
        clerk.get(f"/staff/licences/{licence.id}")
    rows = _rows(clerk.get("/staff/licences/uses"))
    assert len(rows) == 2 and "共" not in rows[0] and "共 2 次" in rows[1]


@pytest.mark.time_machine(WHEN, tick=True)
def test_numbers_are_masked_and_every_kind_of_use_is_listed(world):
    licence = _licence(world, number=ID_NUMBER)
    citizen, clerk = world.client(world.citizen), world.client(world.clerk)
    citizen.post(f"/licences/{licence.id}/show", data={"purpose": "公租房 电话13800138000"})
    show = db.session.scalars(select(LicenceShow)).one()
    assert clerk.post("/licences/verify", data={"code": show.code,
                                                "window": "A01"}).status_code == 200
    row = world.draft(citizen, world.user_item)  # 免提交: the citizen's own use at this hall
    material = row.materials[0]
    assert citizen.post(f"/applications/{row.id}/materials/{material.id}/licence",
                        data={"licence_id": licence.id},
                        headers={"HX-Request": "true"}).status_code == 200
    response = clerk.get("/staff/licences/uses")
    page = response.get_data(as_text=True)
    assert "13800138000" not in page and ID_NUMBER not in page
    assert "138****8000" in page and "150102********1234" in page
    rows = _rows(response)
    assert "免提交材料" in rows[0] and "群众 138****8000" in rows[0]
    assert "窗口核验" in rows[1] and "窗口clerk1" in rows[1]


def test_each_hall_sees_its_own_uses_and_the_city_admin_every_hall(world, time_machine):
    time_machine.move_to(WHEN, tick=False)
    ours, theirs = _licence(world), _licence(world, number="JZ-FAR-1", hall=world.other_hall)
    world.client(world.clerk).get(f"/staff/licences/{ours.id}")
    world.client(world.far_clerk).get(f"/staff/licences/{theirs.id}")
    page = world.client(world.clerk).get("/staff/licences/uses").get_data(as_text=True)
    assert "JZ-USE-1" in page and "JZ-FAR-1" not in page
    page = world.client(world.far_clerk).get("/staff/licences/uses").get_data(as_text=True)
    assert "JZ-FAR-1" in page and "JZ-USE-1" not in page
    city = _city_admin(world)
    response = city.get("/staff/licences/uses")
    assert "全市各大厅" in response.get_data(as_text=True)
    rows = _rows(response)
    assert any("JZ-FAR-1" in r and world.other_hall.short_name in r for r in rows)
    assert any("JZ-USE-1" in r and "测试大厅" in r for r in rows)
    picked = city.get(f"/staff/licences/uses?hall={world.other_hall.id}").get_data(
        as_text=True)
    assert "JZ-FAR-1" in picked and "JZ-USE-1" not in picked


def test_only_staff_open_the_list_and_the_workbench_links_it(world):
    assert world.client().get("/staff/licences/uses").status_code == 302
    assert world.client(world.citizen).get("/staff/licences/uses").status_code == 403
    clerk = world.client(world.clerk)
    assert "/staff/licences/uses" in hrefs(clerk.get("/staff"))
    assert "/staff/licences/uses" in hrefs(clerk.get("/staff/licences"))
    assert "还没有用证记录" in clerk.get("/staff/licences/uses").get_data(as_text=True)


@pytest.mark.time_machine(WHEN, tick=True)
def test_the_review_page_shown_again_after_a_bad_decision_is_a_look_too(world):
    from applications.application_kit import photo

    licence = _licence(world)
    citizen, clerk = world.client(world.citizen), world.client(world.clerk)
    row = world.draft(citizen, world.user_item)
    citizen.get(f"/applications/{row.id}/materials")  # offers the licence (免提交)
    world.upload_all(citizen, row, photo())
    assert citizen.post(f"/applications/{row.id}/submit").status_code == 303
    assert clerk.post(f"/review/{row.id}/claim").status_code == 303
    assert clerk.get(f"/review/{row.id}").status_code == 200
    assert _uses(licence, "review") == 1
    response = clerk.post(f"/review/{row.id}/decide", data={"decision": ""})
    assert response.status_code == 400 and licence.number in response.get_data(as_text=True)
    assert _uses(licence, "review") == 2
