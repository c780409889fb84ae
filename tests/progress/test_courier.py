"""寄出 (issue 22, point 2): the hall's staff see the courier deliveries of their hall, enter the
company and the 运单号; the citizen gets one SMS and sees the number on the timeline."""

import pytest
from conftest import shanghai
from html_kit import errors, field_value, has, text_of

import factories
from app.auth.models import Role
from app.core.models import AuditLog
from app.extensions import db
from app.jobs import OutboxJob
from app.progress.models import ResultDelivery
from app.sms.models import SmsMessage

STREET = "兴安盟乌兰浩特市和平街 8 号 2 单元 301"
pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday


@pytest.fixture
def courier_matter(client, auth, matters):
    """A completed matter of hall A whose owner chose courier through the real pages."""
    hall = factories.hall(name="甲大厅")
    owner = factories.citizen("13800138000")
    matter = matters.add(owner, completed=True, status=("已办结", "success"), hall_id=hall.id)
    auth.login_citizen("13800138000")
    base = f"/progress/testcase/{matter.id}"
    client.post(base + "/delivery", data={"method": "courier"})
    client.post(base + "/delivery/address",
                data={"name": "王芳", "phone": "13912345678", "address": STREET})
    assert client.post(base + "/delivery/check").status_code == 303
    auth.logout()
    return hall, matter, base


def _clerk(client, hall, name="clerk1"):
    user = factories.staff(name, hall_row=hall)
    factories.sign_in(client, user)
    return user


def test_clerk_sees_only_their_halls_deliveries(app, client, courier_matter):
    hall, matter, _ = courier_matter
    row = db.session.query(ResultDelivery).one()
    assert row.hall_id == hall.id and row.sent_at is None
    other = app.test_client()
    _clerk(other, factories.hall(name="乙大厅"), "far")
    page = other.get("/staff/deliveries").get_data(as_text=True)
    assert matter.number not in page and "现在没有待寄出的结果" in page
    assert other.post(f"/staff/deliveries/{row.id}/sent",
                      data={"courier": "EMS", "tracking_no": "1234567890"}).status_code == 403
    _clerk(client, hall)
    page = client.get("/staff/deliveries").get_data(as_text=True)
    assert matter.number in page and STREET in page and "139****5678" in page
    assert has(page, 'h2.card-title:-soup-contains("待寄出") > span.count', "1 件")


def test_sent_sends_one_sms_and_shows_on_the_timeline(app, client, courier_matter):
    hall, matter, base = courier_matter
    row = db.session.query(ResultDelivery).one()
    _clerk(client, hall)
    url = f"/staff/deliveries/{row.id}/sent"
    bad = client.post(url, data={"courier": "顺丰速运", "tracking_no": "SF12"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "请输入正确的快递单号" in errors(bad)
    assert field_value(page, "tracking_no") == "SF12" and field_value(page, "courier") == "顺丰速运"
    assert client.post(url, data={"courier": "", "tracking_no": "SF1234567890"}).status_code == 400
    response = client.post(url, data={"courier": "顺丰速运", "tracking_no": "sf 1234 5678 90"})
    assert response.status_code == 303
    again = client.post(url, data={"courier": "顺丰速运", "tracking_no": "SF1234567890"})
    assert again.status_code == 409  # a double tap: still one SMS
    sms = db.session.query(SmsMessage).filter_by(template="progress_delivery_sent").all()
    assert len(sms) == 1 and sms[0].phone == "13800138000"
    assert "顺丰速运寄出,单号SF1234567890" in sms[0].text and "/t/" in sms[0].text
    assert db.session.query(OutboxJob).filter_by(name="sms.send").count() >= 1
    row = db.session.get(ResultDelivery, row.id)
    assert (row.courier, row.tracking_no) == ("顺丰速运", "SF1234567890") and row.sent_at
    page = client.get("/staff/deliveries").get_data(as_text=True)
    assert "现在没有待寄出的结果" in page and "最近寄出" in page and "SF1234567890" in page
    # the citizen: the step on the timeline, the number on the card, no more changing
    citizen = app.test_client()
    factories.sign_in(citizen, db.session.query(factories.User).filter_by(
        role=Role.CITIZEN).one())
    timeline = citizen.get(base).get_data(as_text=True)
    assert "结果已寄出:顺丰速运,单号 SF1234567890" in timeline
    assert text_of(timeline, "#delivery-tracking") == "已寄出:顺丰速运,单号 SF1234567890"
    assert "更改领取方式" not in timeline
    change = citizen.post(base + "/delivery", data={"method": "pickup"})
    assert change.status_code == 303
    assert citizen.post(base + "/delivery/check").status_code == 409
    assert db.session.get(ResultDelivery, row.id).method == "courier"


def test_correcting_the_number_sends_a_second_sms(client, courier_matter):
    hall, _, _ = courier_matter
    row = db.session.query(ResultDelivery).one()
    _clerk(client, hall)
    url = f"/staff/deliveries/{row.id}/sent"
    client.post(url, data={"courier": "EMS", "tracking_no": "1111111111"})
    assert client.post(url, data={"courier": "EMS", "tracking_no": "1111111112"}).status_code == 303
    assert db.session.query(SmsMessage).filter_by(template="progress_delivery_sent").count() == 2
    notes = [a.public_note for a in db.session.query(AuditLog).filter_by(
        to_status="delivery_sent").order_by(AuditLog.id)]
    assert notes == ["结果已寄出:EMS,单号 1111111111", "快递单号已更正:EMS,单号 1111111112"]


def test_pickup_is_not_listed(client, auth, matters):
    hall = factories.hall()
    matter = matters.add(factories.citizen(), completed=True, hall_id=hall.id)
    auth.login_citizen()
    client.post(f"/progress/testcase/{matter.id}/delivery", data={"method": "pickup"})
    client.post(f"/progress/testcase/{matter.id}/delivery/check")
    auth.logout()
    _clerk(client, hall)
    assert matter.number not in client.get("/staff/deliveries").get_data(as_text=True)
