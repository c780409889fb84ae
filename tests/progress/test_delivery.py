"""Results delivery: pickup at the window or courier, chosen from the timeline once completed."""

from html_kit import field_value, soup, text_of, texts

import factories
from app.core.models import AuditLog
from app.extensions import db
from app.progress.models import ResultDelivery


def _base(matter) -> str:
    return f"/progress/testcase/{matter.id}"


def test_not_offered_before_completion(client, auth, matters):
    matter = matters.add(factories.citizen())
    auth.login_citizen()
    assert "选择领取方式" not in client.get(_base(matter)).get_data(as_text=True)
    assert client.get(_base(matter) + "/delivery").status_code == 404
    assert client.post(_base(matter) + "/delivery", data={"method": "pickup"}).status_code == 404


def test_pickup_flow_shows_in_the_timeline(client, auth, matters):
    matter = matters.add(factories.citizen(), completed=True, status=("已办结", "success"))
    auth.login_citizen()
    assert "选择领取方式" in client.get(_base(matter)).get_data(as_text=True)
    response = client.post(_base(matter) + "/delivery", data={"method": "pickup"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/delivery/check")
    check = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "到窗口领取" in check and "修改" in check and "确认领取方式" in check
    response = client.post(_base(matter) + "/delivery/check")
    assert response.status_code == 303 and response.headers["Location"] == _base(matter)
    page = client.get(_base(matter)).get_data(as_text=True)
    assert "您选择了到窗口领取结果" in page and "更改领取方式" in page
    row = db.session.query(ResultDelivery).one()
    assert (row.kind, row.entity_id, row.method) == ("testcase", matter.id, "pickup")
    assert db.session.query(AuditLog).filter_by(entity="result_delivery").count() == 1


def test_courier_flow_checks_each_field_and_keeps_input(client, auth, matters):
    matter = matters.add(factories.citizen("13800138000"), completed=True)
    auth.login_citizen("13800138000")
    client.post(_base(matter) + "/delivery", data={"method": "courier"})
    form = client.get(_base(matter) + "/delivery/address")
    assert field_value(form, "phone") == "13800138000"  # the owner's own number, prefilled for them
    street = "兴安盟乌兰浩特市和平街 8 号"
    bad = [({"name": "", "phone": "13800138000", "address": street}, "收件人姓名"),
           ({"name": "王芳", "phone": "12345", "address": street}, "手机号码"),
           ({"name": "王芳", "phone": "13800138000", "address": "和平街"}, "详细地址")]
    for data, message in bad:
        response = client.post(_base(matter) + "/delivery/address", data=data)
        assert response.status_code == 400 and message in text_of(response, ".field-error")
        assert soup(response).select('[aria-invalid="true"]')
        assert field_value(response, "address") == data["address"]
    good = {"name": "王芳", "phone": "13912345678", "address": street + " 2 单元 301"}
    response = client.post(_base(matter) + "/delivery/address", data=good)
    assert response.status_code == 303
    check = client.get(_base(matter) + "/delivery/check")
    text = check.get_data(as_text=True)
    assert "139****5678" in text and "13912345678" not in text and "和平街 8 号" in text
    assert len(soup(check).select("a.progress-answer-change")) == 3  # 修改 beside each answer
    assert all(t.startswith("修改") for t in texts(check, "a.progress-answer-change"))
    client.post(_base(matter) + "/delivery/check")
    page = client.get(_base(matter)).get_data(as_text=True)
    assert "快递送达" in page and "结果将寄往:兴安盟乌兰浩特市和平街 8 号 2 单元 301" in page
    row = db.session.query(ResultDelivery).one()
    assert (row.method, row.recipient, row.phone) == ("courier", "王芳", "13912345678")


def test_no_choice_is_400(client, auth, matters):
    matter = matters.add(factories.citizen(), completed=True)
    auth.login_citizen()
    response = client.post(_base(matter) + "/delivery", data={})
    assert response.status_code == 400 and "请选择领取方式" in text_of(response, ".field-error")
    response = client.post(_base(matter) + "/delivery", data={"method": "drone"})
    assert response.status_code == 400


def test_check_without_a_choice_goes_back(client, auth, matters):
    matter = matters.add(factories.citizen(), completed=True)
    auth.login_citizen()
    response = client.post(_base(matter) + "/delivery/check")
    assert response.status_code == 303 and response.headers["Location"].endswith("/delivery")
    assert db.session.query(ResultDelivery).count() == 0


def test_another_citizen_cannot_choose(client, auth, matters):
    matter = matters.add(factories.citizen("13900139000"), completed=True)
    auth.login_citizen("13800138000")
    for path in ("/delivery", "/delivery/address", "/delivery/check"):
        assert client.get(_base(matter) + path).status_code == 404
    assert client.post(_base(matter) + "/delivery", data={"method": "pickup"}).status_code == 404


def test_changing_the_choice_replaces_it(client, auth, matters):
    matter = matters.add(factories.citizen(), completed=True)
    auth.login_citizen()
    client.post(_base(matter) + "/delivery", data={"method": "pickup"})
    client.post(_base(matter) + "/delivery/check")
    client.post(_base(matter) + "/delivery", data={"method": "courier"})
    client.post(_base(matter) + "/delivery/address", data={
        "name": "王芳", "phone": "13912345678", "address": "兴安盟乌兰浩特市和平街 8 号"})
    client.post(_base(matter) + "/delivery/check")
    row = db.session.query(ResultDelivery).one()
    assert row.method == "courier"
    page = client.get(_base(matter)).get_data(as_text=True)
    assert "到窗口领取结果" not in page and "快递送达" in page
