"""A helper books or applies for the citizen; nothing is made until the citizen's SMS code."""

from datetime import timedelta

from html_kit import errors, soup
from sqlalchemy import event, func, select

from app.applications.models import Application
from app.booking import opening
from app.booking import services as booking
from app.booking.models import Booking, Slot
from app.core.timeutil import utcnow
from app.extensions import db
from app.help.models import OnBehalf


def _ready(world, auth, as_staff):
    """A request the clerk has taken and reviewed; returns it and the clerk's browser."""
    auth.login_citizen("13800138000")
    row = world.ask()
    sc = as_staff(world.clerk)
    sc.post(f"/staff/help/{row.id}/assign")
    sc.post(f"/staff/help/{row.id}/review", data={"text": "已电话联系"})
    return row, sc


def _slot(world):
    with world.app.test_request_context():
        day = booking.local_today() + timedelta(days=1)
        return opening.ensure_slots(world.hall.id, world.item.id, day)[0]


def _code(world) -> str:
    return world.sms("help_confirm_code")[-1].params["code"]


def _bookings() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def test_a_booking_on_behalf_is_made_when_the_citizen_types_the_code(world, client, auth,
                                                                     as_staff):
    row, sc = _ready(world, auth, as_staff)
    page = sc.get(f"/staff/help/{row.id}?item={world.item.code}").get_data(as_text=True)
    assert "代为预约,发验证码给群众确认" in page
    slot = _slot(world)
    assert sc.post(f"/staff/help/{row.id}/behalf/booking",
                   data={"slot_id": slot.id}).status_code == 303
    [sms] = world.sms("help_confirm_code")
    assert sms.phone == "13800138000" and sms.urgent and "代您预约" in sms.text
    assert _bookings() == 0  # not active until the citizen confirms
    db.session.refresh(slot)
    assert slot.booked == 0
    view = client.get(f"/help/{row.id}").get_data(as_text=True)
    assert "请确认:帮办员代您预约" in view and world.item.name in view

    wrong = "000000" if _code(world) != "000000" else "111111"
    response = client.post(f"/help/{row.id}/confirm", data={"code": wrong})
    assert response.status_code == 400
    assert "验证码不正确,还可以再试 2 次" in response.get_data(as_text=True)
    assert _bookings() == 0

    response = client.post(f"/help/{row.id}/confirm", data={"code": _code(world)})
    assert response.status_code == 303
    made = db.session.scalar(select(Booking))
    assert made.citizen_id == world.citizen.id and made.slot_id == slot.id
    assert response.headers["Location"].endswith(f"/bookings/{made.id}")
    assert [m.phone for m in world.sms("booking_confirmed")] == ["13800138000"]
    action = db.session.scalar(select(OnBehalf))
    assert action.status == "confirmed" and action.booking_id == made.id
    timeline = client.get(f"/progress/help_request/{row.id}").get_data(as_text=True)
    assert f"代预约成功,预约号 {made.number}" in timeline
    again = client.post(f"/help/{row.id}/confirm", data={"code": _code(world)})
    assert again.status_code == 404 and "没有待您确认的代办事项" in errors(again)
    assert _bookings() == 1
    assert made.number in sc.get(f"/staff/help/{row.id}").get_data(as_text=True)


def test_an_expired_code_makes_nothing(world, client, auth, as_staff):
    row, sc = _ready(world, auth, as_staff)
    sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": _slot(world).id})
    action = db.session.scalar(select(OnBehalf))
    action.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.post(f"/help/{row.id}/confirm", data={"code": _code(world)})
    assert response.status_code == 410
    assert "验证码已过期,请联系帮办员重新发送" in response.get_data(as_text=True)
    assert _bookings() == 0
    db.session.refresh(action)
    assert action.status == "expired"


def test_three_wrong_codes_kill_it_and_a_new_one_can_be_sent(world, client, auth, as_staff):
    row, sc = _ready(world, auth, as_staff)
    slot = _slot(world)
    sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": slot.id})
    real = _code(world)
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(2):
        client.post(f"/help/{row.id}/confirm", data={"code": wrong})
    last = client.post(f"/help/{row.id}/confirm", data={"code": wrong})
    assert last.status_code == 400 and "错误次数过多" in errors(last)
    dead = client.post(f"/help/{row.id}/confirm", data={"code": real})
    assert dead.status_code == 404 and _bookings() == 0
    sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": slot.id})
    assert client.post(f"/help/{row.id}/confirm",
                       data={"code": _code(world)}).status_code == 303
    assert _bookings() == 1


def test_an_empty_code_is_asked_for(world, client, auth, as_staff):
    row, sc = _ready(world, auth, as_staff)
    sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": _slot(world).id})
    response = client.post(f"/help/{row.id}/confirm", data={"code": ""})
    assert response.status_code == 400 and "请输入短信验证码" in errors(response)


def test_an_application_on_behalf_becomes_the_citizens_draft(world, client, auth, as_staff):
    row, sc = _ready(world, auth, as_staff)
    assert sc.post(f"/staff/help/{row.id}/behalf/application",
                   data={"item_id": world.item.id}).status_code == 303
    assert "代您申请预审" in world.sms("help_confirm_code")[0].text
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0
    response = client.post(f"/help/{row.id}/confirm", data={"code": _code(world)})
    assert response.status_code == 303
    draft = db.session.scalar(select(Application))
    assert draft.citizen_id == world.citizen.id and draft.status == "draft"
    assert response.headers["Location"].endswith(f"/applications/{draft.id}/applicant")


def test_on_behalf_needs_a_slot_of_the_hall_and_a_reviewed_request(world, client, auth,
                                                                  as_staff):
    auth.login_citizen("13800138000")
    row = world.ask()
    sc = as_staff(world.clerk)
    sc.post(f"/staff/help/{row.id}/assign")
    early = sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": _slot(world).id})
    assert early.status_code == 409 and "请先完成初审" in errors(early)
    sc.post(f"/staff/help/{row.id}/review", data={"text": "已联系"})
    missing = sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": "99999"})
    assert missing.status_code == 400
    assert "请选择本大厅的一个预约时段" in missing.get_data(as_text=True)
    assert world.sms("help_confirm_code") == []


def test_the_helpers_slot_picker_writes_nothing_and_choosing_makes_the_row(world, auth,
                                                                           as_staff):
    """The 代为预约 picker lists slots computed from the rules (issue 19: no GET writes); the
    slot's row is made when the helper chooses it, and the citizen's code books that row."""
    row, sc = _ready(world, auth, as_staff)
    seen = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = sc.get(f"/staff/help/{row.id}?item={world.item.code}")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert page.status_code == 200 and seen == []
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 0
    first = soup(page.get_data(as_text=True)).select_one("input[name=slot_id]")["value"]
    assert "-" in first  # a rule and a time, not yet a row

    assert sc.post(f"/staff/help/{row.id}/behalf/booking",
                   data={"slot_id": first}).status_code == 303
    made = db.session.scalar(select(Slot))
    assert made is not None and made.booked == 0
    assert db.session.scalar(select(OnBehalf)).slot_id == made.id
    for bad in ("1-nonsense", "x-202612021000", "99999-202612021000", "-", ""):
        assert sc.post(f"/staff/help/{row.id}/behalf/booking",
                       data={"slot_id": bad}).status_code == 400


def test_each_change_of_an_action_is_an_audited_move(world, client, auth, as_staff):
    from app.core.models import AuditLog

    row, sc = _ready(world, auth, as_staff)
    slot = _slot(world)
    sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": slot.id})
    sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": slot.id})  # replaces it
    first, second = db.session.scalars(select(OnBehalf).order_by(OnBehalf.id)).all()
    assert (first.status, second.status) == ("cancelled", "pending")
    client.post(f"/help/{row.id}/confirm", data={"code": _code(world)})
    db.session.refresh(second)
    assert second.status == "confirmed" and second.confirmed_at is not None
    moves = db.session.execute(select(AuditLog.entity_id, AuditLog.from_status,
                                      AuditLog.to_status, AuditLog.actor_id)
                               .where(AuditLog.entity == "help_behalf")
                               .order_by(AuditLog.id)).all()
    assert [tuple(m) for m in moves] == [
        (first.id, "pending", "cancelled", world.clerk.id),
        (second.id, "pending", "confirmed", world.citizen.id)]
    # withdrawing the request cancels the action still waiting, and only that one
    sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": slot.id})
    client.post(f"/help/{row.id}/withdraw")
    third = db.session.scalars(select(OnBehalf).order_by(OnBehalf.id)).all()[-1]
    db.session.refresh(second)
    assert (second.status, third.status) == ("confirmed", "cancelled")
    assert db.session.execute(select(AuditLog.from_status, AuditLog.actor_id).where(
        AuditLog.entity == "help_behalf", AuditLog.entity_id == third.id)).one() == (
        "pending", world.citizen.id)
