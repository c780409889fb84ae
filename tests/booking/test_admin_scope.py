"""A hall admin works on their own hall only, whatever the request names; city-wide calendar days
are changed by a city-wide admin only (issue 16, classes 1 and 2)."""

from datetime import date, time

import pytest
from html_kit import targets
from sqlalchemy import select

from app.booking.models import SlotRule
from app.catalog.workdays import CalendarDay
from app.extensions import db
from factories import staff


@pytest.fixture
def far_rule(world):
    """A rule of the other hall, with a capacity nobody of this hall may change."""
    rule = SlotRule(hall_id=world.other_hall.id, item_id=world.item.id, weekday=2,
                    start=time(13, 0), end=time(15, 0), slot_minutes=30, capacity=4,
                    window_group="A")
    db.session.add(rule)
    db.session.commit()
    return rule


def test_hall_parameter_does_not_switch_a_hall_admins_hall(client, auth, world, far_rule):
    auth.login_staff("admin1", "secret-pass-2")
    far = world.other_hall.id
    page = client.get(f"/admin/booking?hall={far}").get_data(as_text=True)
    assert world.hall.short_name in page and world.other_hall.short_name not in page
    assert f"/admin/booking/rules/{far_rule.id}/" not in page
    day = client.get(f"/clerk/bookings?hall={far}").get_data(as_text=True)
    assert world.hall.short_name in day and world.other_hall.short_name not in day
    for path in (f"/admin/booking/rules/{far_rule.id}/capacity?hall={far}",
                 f"/admin/booking/rules/{far_rule.id}/retire?hall={far}"):
        response = client.post(path, data={"capacity": "99", "hall": str(far)})
        assert response.status_code == 403, path
        assert "其他大厅" in response.get_data(as_text=True)
    db.session.refresh(far_rule)
    assert far_rule.capacity == 4 and far_rule.active


def test_a_city_wide_admin_picks_a_hall(client, auth, world, far_rule):
    staff("city1", "secret-pass-9", "admin")
    auth.login_staff("city1", "secret-pass-9")
    far = world.other_hall.id
    page = client.get(f"/admin/booking?hall={far}").get_data(as_text=True)
    assert any(target.startswith(f"/admin/booking/rules/{far_rule.id}/capacity")
               for target in targets(page))
    response = client.post(f"/admin/booking/rules/{far_rule.id}/capacity?hall={far}",
                           data={"capacity": "6"})
    assert response.status_code == 303
    db.session.refresh(far_rule)
    assert far_rule.capacity == 6
    # with the other hall picked, this hall's rules are out of the request's scope
    own = world.rules[0]
    response = client.post(f"/admin/booking/rules/{own.id}/capacity?hall={far}",
                           data={"capacity": "1"})
    assert response.status_code == 403
    db.session.refresh(own)
    assert own.capacity == 2


def _days(**where) -> list[CalendarDay]:
    return db.session.scalars(select(CalendarDay).filter_by(**where)
                              .order_by(CalendarDay.id)).all()


def test_a_hall_admin_cannot_change_the_city_calendar(client, auth, world):
    city_day = CalendarDay(hall_id=None, day=date(2031, 10, 1), is_workday=False, name="国庆节")
    db.session.add(city_day)
    db.session.commit()
    auth.login_staff("admin1", "secret-pass-2")
    response = client.post("/admin/booking/days", data={
        "day": "2031-05-01", "kind": "holiday", "name": "劳动节", "scope": "city"})
    assert response.status_code == 403
    assert "市级管理员" in response.get_data(as_text=True)
    assert _days(day=date(2031, 5, 1)) == []
    response = client.post(f"/admin/booking/days/{city_day.id}/delete")
    assert response.status_code == 403
    assert _days(day=date(2031, 10, 1)) != []
    # the hall's own days stay theirs to change
    assert client.post("/admin/booking/days", data={
        "day": "2031-05-02", "kind": "holiday", "name": "大厅停电"}).status_code == 303
    assert [d.hall_id for d in _days(day=date(2031, 5, 2))] == [world.hall.id]


def test_a_city_wide_admin_changes_the_city_calendar(client, auth, world):
    staff("city1", "secret-pass-9", "admin")
    auth.login_staff("city1", "secret-pass-9")
    assert client.post("/admin/booking/days", data={
        "day": "2031-05-01", "kind": "holiday", "name": "劳动节", "scope": "city"}
    ).status_code == 303
    row = _days(day=date(2031, 5, 1))[0]
    assert row.hall_id is None
    assert client.post(f"/admin/booking/days/{row.id}/delete").status_code == 303
    assert _days(day=date(2031, 5, 1)) == []
