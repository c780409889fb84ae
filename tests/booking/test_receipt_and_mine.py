"""Issue 21, point 8: the receipt prints notes as text, 我的办件 dates bookings by their time."""

from datetime import date

import pytest
from conftest import shanghai
from sqlalchemy import select

from app.booking.models import Booking
from app.catalog.models import Material
from app.extensions import db


@pytest.mark.time_machine(shanghai("2026-12-04 10:00"), tick=True)  # a Friday morning
def test_the_receipt_prints_material_notes_as_text_never_a_python_list(world, client, auth):
    material = db.session.scalar(select(Material).where(Material.item_id == world.item.id))
    material.notes = "变更住所时提交;可先容缺受理"
    db.session.commit()
    auth.login_citizen("13800138000")
    assert world.book(client, world.slot(0, date(2026, 12, 7))).status_code == 303
    booking = world.booking()[0]
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "变更住所时提交;可先容缺受理" in page
    assert "['" not in page and "']" not in page


@pytest.mark.time_machine(shanghai("2026-12-04 10:00"), tick=True)  # a Friday morning
def test_mine_shows_the_appointment_time_upcoming_first(world, client, auth):
    auth.login_citizen("13800138000")
    assert world.book(client, world.slot(1, date(2026, 12, 8)), idem="a").status_code == 303
    later = world.booking()[0]
    assert world.book(client, world.slot(0, date(2026, 12, 7)), idem="b").status_code == 303
    sooner = [b for b in world.booking() if b.id != later.id][0]
    past = Booking(number="26110100", citizen_id=sooner.citizen_id, hall_id=world.hall.id,
                   item_id=world.item.id, slot_id=sooner.slot_id, status="served", idem_key="old",
                   starts_at=sooner.starts_at.replace(month=11), ends_at=sooner.ends_at.replace(
                       month=11), day=date(2026, 11, 7))
    db.session.add(past)
    db.session.commit()
    page = client.get("/progress/mine").get_data(as_text=True)
    assert "预约 12月07日(周一) 09:00" in page and "预约 12月08日(周二) 09:30" in page
    # upcoming first, the soonest first, whatever order they were made in; the past one after
    assert page.index(sooner.number) < page.index(later.number) < page.index(past.number)
