"""亮证 tokens a clerk must not accept (issue 23, "Bad input"): expired, reused or forged, typed
as the short code or read from the QR code as a /t/ link, and the QR link opened with a camera:
each refused in Chinese, nothing of the licence shown, nothing used up."""

from datetime import date, timedelta

import pytest
from conftest import shanghai
from html_kit import errors
from licences.licence_kit import World
from sqlalchemy import select

from app.extensions import db
from app.licences.models import Licence, LicenceShow

WHEN = shanghai("2026-12-02 10:00")  # a Wednesday morning
NUMBER = "JZ-TOKEN-1"


@pytest.fixture
def world(app, time_machine):
    time_machine.move_to(WHEN, tick=False)
    return World(app)


def _show(world) -> LicenceShow:
    licence = Licence(type_code="residence_permit", number=NUMBER, holder_name="张三",
                      holder_user_id=world.citizen.id, department="公安局",
                      hall_id=world.hall.id, issued_on=date(2026, 1, 1))
    db.session.add(licence)
    db.session.commit()
    citizen = world.client(world.citizen)
    assert citizen.post(f"/licences/{licence.id}/show",
                        data={"purpose": "公租房申请"}).status_code == 303
    return db.session.scalars(select(LicenceShow)).one()


def _typed(show: LicenceShow, how: str) -> str:
    return show.code if how == "code" else f"http://localhost/t/{show.token}"


def _refused(response, status: int) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code == status
    assert "亮证码无效、已过期或已使用" in errors(response)
    assert NUMBER not in text and "张三" not in text and "仅供" not in text


@pytest.mark.parametrize("how", ["code", "link"])
def test_an_expired_token_is_refused_however_it_is_typed(world, time_machine, how):
    show = _show(world)
    time_machine.move_to(WHEN + timedelta(minutes=5, seconds=1), tick=False)
    response = world.client(world.clerk).post("/licences/verify",
                                              data={"code": _typed(show, how)})
    _refused(response, 410)
    assert db.session.get(LicenceShow, show.id).used_at is None


@pytest.mark.parametrize("how", ["code", "link"])
def test_a_used_token_is_refused_the_second_time_however_it_is_typed(world, how):
    show = _show(world)
    clerk = world.client(world.clerk)
    first = clerk.post("/licences/verify", data={"code": _typed(show, how)})
    assert first.status_code == 200 and NUMBER in first.get_data(as_text=True)
    other_clerk = world.client(world.admin)  # nor at another window of the hall
    _refused(other_clerk.post("/licences/verify", data={"code": _typed(show, how)}), 410)


@pytest.mark.parametrize("how", ["code", "link"])
def test_a_token_with_one_character_changed_is_forged(world, how):
    show = _show(world)
    typed = _typed(show, how)
    last = typed[-1]
    forged = typed[:-1] + ("0" if last != "0" else "1")
    _refused(world.client(world.clerk).post("/licences/verify", data={"code": forged}), 404)
    assert db.session.get(LicenceShow, show.id).used_at is None


def test_an_expired_qr_link_opened_with_a_camera_shows_nothing(world, time_machine):
    show = _show(world)
    time_machine.move_to(WHEN + timedelta(minutes=5, seconds=1), tick=False)
    response = world.client(world.clerk).get(f"/t/{show.token}")
    text = response.get_data(as_text=True)
    assert response.status_code == 410 and "链接已过期" in text and NUMBER not in text
