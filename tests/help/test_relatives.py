"""为家人办: a citizen books or applies for a family member, who is named and gets the SMS too."""

from datetime import timedelta

from html_kit import errors, field_value
from sqlalchemy import select

from app.applications.models import Application
from app.booking import opening
from app.booking import services as booking
from app.booking.models import Booking
from app.extensions import db

RELATIVE = {"relative_name": "张秀英", "relative_relation": "父母",
            "relative_phone": "13700137000"}


def _slot(world):
    with world.app.test_request_context():
        day = booking.local_today() + timedelta(days=1)
        return opening.ensure_slots(world.hall.id, world.item.id, day)[0]


def test_booking_for_a_parent_names_them_and_texts_them(world, client, auth):
    auth.login_citizen("13800138000")
    slot = _slot(world)
    page = client.get(f"/book/slot/{slot.id}").get_data(as_text=True)
    assert "为家人预约(选填)" in page
    response = client.post(f"/book/slot/{slot.id}", data={"idem": "k1", **RELATIVE})
    assert response.status_code == 303, response.get_data(as_text=True)
    row = db.session.scalar(select(Booking))
    assert (row.relative_name, row.relative_relation, row.relative_phone) == (
        "张秀英", "父母", "13700137000")
    assert row.citizen_id == world.citizen.id
    assert sorted(m.phone for m in world.sms("booking_confirmed")) == [
        "13700137000", "13800138000"]
    view = client.get(f"/bookings/{row.id}").get_data(as_text=True)
    assert "张秀英(父母)" in view and "137****7000" in view and "13700137000" not in view
    with world.app.test_request_context():
        booking.remind(row.id)
    assert sorted(m.phone for m in world.sms("booking_reminder")) == [
        "13700137000", "13800138000"]


def test_a_half_filled_relative_is_refused_and_kept(world, client, auth):
    auth.login_citizen("13800138000")
    slot = _slot(world)
    response = client.post(f"/book/slot/{slot.id}", data={
        "idem": "k1", "relative_name": "张秀英", "relative_relation": "父母",
        "relative_phone": "1370013"})
    assert response.status_code == 400
    assert "请输入家人的11位手机号码" in errors(response)
    assert field_value(response, "relative_name") == "张秀英"
    assert field_value(response, "relative_phone") == "1370013"
    no_relation = client.post(f"/book/slot/{slot.id}", data={
        "idem": "k1", "relative_name": "张秀英", "relative_phone": "13700137000"})
    assert no_relation.status_code == 400
    assert "请选择家人与您的关系" in no_relation.get_data(as_text=True)
    assert db.session.scalar(select(Booking)) is None
    assert client.post(f"/book/slot/{slot.id}", data={"idem": "k1"}).status_code == 303
    assert db.session.scalar(select(Booking)).relative_name is None
    assert [m.phone for m in world.sms("booking_confirmed")] == ["13800138000"]


def _draft(client, world) -> Application:
    assert client.post(f"/apply/{world.item.code}").status_code == 303
    return db.session.scalar(select(Application))


def test_applying_for_a_parent_names_them_and_texts_them(world, client, auth):
    auth.login_citizen("13800138000")
    row = _draft(client, world)
    assert "为家人申请(选填)" in client.get(f"/applications/{row.id}/applicant").get_data(
        as_text=True)
    response = client.post(f"/applications/{row.id}/applicant", data={
        "name": "张秀英", "id_number": "11010519491231002X", "phone": "13800138000",
        **RELATIVE})
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.refresh(row)
    assert (row.relative_name, row.relative_relation, row.relative_phone) == (
        "张秀英", "父母", "13700137000")
    check = client.get(f"/applications/{row.id}/check").get_data(as_text=True)
    assert "张秀英(父母) 137****7000" in check
    assert client.post(f"/applications/{row.id}/submit").status_code == 303
    assert world.sms("app_submitted") == []  # submitted on screen: no SMS to anyone
    clerk = world.as_staff(world.clerk, "secret-pass-1")
    clerk.post(f"/review/{row.id}/claim")
    decided = clerk.post(f"/review/{row.id}/decide", data={"decision": "reject",
                                                          "reason": "not_eligible"})
    assert decided.status_code == 303, decided.get_data(as_text=True)
    assert sorted(m.phone for m in world.sms("app_rejected")) == [
        "13700137000", "13800138000"]
    view = client.get(f"/applications/{row.id}").get_data(as_text=True)
    assert "张秀英(父母)" in view and "13700137000" not in view


def test_a_bad_relative_on_an_application_is_refused_and_kept(world, client, auth):
    auth.login_citizen("13800138000")
    row = _draft(client, world)
    response = client.post(f"/applications/{row.id}/applicant", data={
        "name": "张三", "id_number": "11010519491231002X", "phone": "13800138000",
        "relative_name": "", "relative_relation": "邻居", "relative_phone": "13700137000"})
    assert response.status_code == 400
    assert "请输入家人的姓名" in errors(response) and "请选择家人与您的关系" in errors(response)
    assert field_value(response, "relative_phone") == "13700137000"
    db.session.refresh(row)
    assert row.relative_phone is None


def test_changing_the_time_keeps_the_family_member(world, client, auth):
    auth.login_citizen("13800138000")
    with world.app.test_request_context():
        day = booking.local_today() + timedelta(days=1)
        first, later = opening.ensure_slots(world.hall.id, world.item.id, day)[:2]
    client.post(f"/book/slot/{first.id}", data={"idem": "k1", **RELATIVE})
    old = db.session.scalar(select(Booking))
    page = client.get(f"/book/slot/{later.id}?change={old.id}")
    assert field_value(page, "relative_name") == "张秀英"
    assert field_value(page, "relative_phone") == "13700137000"
    form = {"idem": "k2", "change": old.id, **RELATIVE}
    assert client.post(f"/book/slot/{later.id}", data=form).status_code == 303
    new = db.session.scalars(select(Booking).order_by(Booking.id.desc())).first()
    assert new.changed_from_id == old.id and new.relative_phone == "13700137000"
