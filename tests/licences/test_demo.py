"""Demo data: the demo citizen holds two licences; a demo item takes one in place of a photo."""

from sqlalchemy import select

import factories
from app.auth.models import User
from app.catalog.models import ServiceItem
from app.extensions import db
from app.licences import services


def test_the_demo_citizen_holds_two_licences_one_a_demo_item_accepts(runner, client):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    citizen = db.session.scalar(select(User).where(User.phone == "13800138000"))
    held = services.wallet(citizen.id)
    assert sorted(r.type_name for r in held) == ["结婚证", "营业执照"]
    assert all(r.valid_now for r in held)
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "SC-003"))
    accepting = [m for m in item.active_materials if m.licence_type == "business_licence"]
    assert [m.name for m in accepting] == ["营业执照"]
    factories.sign_in(client, citizen)
    response = client.post("/apply/SC-003")
    app_id = int(response.location.split("/")[-2])
    client.post(f"/applications/{app_id}/consent", data={"agree": "1"})  # before any photo
    page = client.get(f"/applications/{app_id}/materials").get_data(as_text=True)
    assert "已有电子证照,无需提交" in page and "兴安味道餐饮有限公司" in page
    # ...and the items that issue licences say so in the catalog.
    issuing = db.session.scalars(select(ServiceItem.code).where(
        ServiceItem.licence_type.is_not(None))).all()
    assert set(issuing) == {"SC-002", "SC-003", "WS-001"}
