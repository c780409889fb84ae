"""Admin pages: admins only; create, edit and retire items, materials and bundles."""

import pytest
from html_kit import field, field_value, hrefs, one, text_of, texts
from sqlalchemy import select

import factories
from app.catalog.models import Bundle, Material, ServiceItem
from app.core.models import AuditLog
from app.extensions import db

ADMIN_PAGES = ["/admin/catalog", "/admin/catalog/items/new", "/admin/catalog/bundles",
               "/admin/catalog/bundles/new", "/admin/catalog/transfer",
               "/admin/catalog/export.yaml", "/admin/catalog/export.csv"]


@pytest.fixture
def admin(client, auth):
    hall = factories.hall(name="乌兰浩特市政务服务中心")
    factories.staff("boss", "boss-password-1", role="admin", hall_row=hall)
    auth.login_staff("boss", "boss-password-1")
    return hall


def _item_form(hall, **overrides):
    form = {"code": "HJ-009", "name": "居住证办理", "department": "公安局",
            "audience": "individual", "topic": "户籍", "summary": "", "keywords": "暂住 居住证",
            "legal_days": "15",
            "promised_days": "3", "visits": "1", "fee": "", "steps": "提交材料\n审核\n发证",
            "legal_basis": "", "phone": "0482-1234567", "bookable": "1", "prereview": "1",
            "hall_ids": str(hall.id), "window_ids": str(hall.windows[0].id)}
    return form | overrides


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_need_an_admin(client, auth, path):
    assert client.get(path).status_code == 302
    factories.staff("clerk1", "clerk-password-1", role="clerk")
    auth.login_staff("clerk1", "clerk-password-1")
    assert client.get(path).status_code == 403


def test_citizen_cannot_post_to_admin(client, auth):
    item = factories.item()
    auth.login_citizen()
    assert client.post(f"/admin/catalog/items/{item.id}/retire").status_code == 403
    assert db.session.get(ServiceItem, item.id).retired_at is None


@pytest.mark.parametrize("path", ADMIN_PAGES[:5])
def test_admin_pages_open(client, admin, path):
    assert client.get(path).status_code == 200


def test_staff_home_links_to_catalog_admin(client, admin):
    assert "/admin/catalog" in hrefs(client.get("/staff"))


def test_admin_adds_an_item_with_three_materials_and_it_is_found(client, admin):
    response = client.post("/admin/catalog/items/new", data=_item_form(admin))
    assert response.status_code == 303
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "HJ-009"))
    assert response.headers["Location"].endswith(f"/admin/catalog/items/{item.id}")
    assert item.steps == ["提交材料", "审核", "发证"] and item.fee == "不收费"
    assert item.halls == [admin] and item.windows == [admin.windows[0]]
    for name, original in [("居民身份证", "1"), ("户口簿", "1"), ("租房合同", "0")]:
        response = client.post(f"/admin/catalog/items/{item.id}/materials",
                               data={"name": name, "original": original, "copies": "1",
                                     "photo_ok": "1"})
        assert response.status_code == 303
    db.session.refresh(item)
    assert [m.name for m in item.active_materials] == ["居民身份证", "户口簿", "租房合同"]
    assert item.active_materials[2].original is False
    assert "居住证办理" in texts(client.get("/services?q=居住证"), ".row-title")
    guide = client.get("/services/HJ-009").get_data(as_text=True)
    assert "租房合同" in guide and "复印件 1 份" in guide


def test_item_form_errors_are_chinese_beside_the_field_and_keep_what_was_typed(client, admin):
    factories.item(code="HJ-001")
    form = _item_form(admin, code="HJ-001", name="", legal_days="五", promised_days="30",
                      topic="")
    response = client.post("/admin/catalog/items/new", data=form)
    assert response.status_code == 400
    for name, message in [("name", "请输入事项名称"), ("legal_days", "法定时限只能填数字"),
                          ("topic", "请选择主题")]:
        assert message in text_of(response, f"#f-{name}-error")
    assert field_value(response, "legal_days") == "五"
    assert field_value(response, "phone") == "0482-1234567"
    assert "提交材料\n审核" in field_value(response, "steps")
    assert field(response, "name")["aria-describedby"] == "f-name-error"
    form = _item_form(admin, code="HJ-001")
    response = client.post("/admin/catalog/items/new", data=form)
    assert "这个事项编码已被其他事项使用" in text_of(response, "#f-code-error")
    form = _item_form(admin, legal_days="3", promised_days="5")
    response = client.post("/admin/catalog/items/new", data=form)
    assert "承诺时限不能超过法定时限" in text_of(response, "#f-promised_days-error")
    assert db.session.scalar(select(ServiceItem).where(ServiceItem.code == "HJ-009")) is None


def test_a_city_wide_admin_must_choose_a_hall(client, auth):
    hall = factories.hall()
    factories.staff("city", "city-password-1", role="admin")
    auth.login_staff("city", "city-password-1")
    response = client.post("/admin/catalog/items/new", data=_item_form(hall, hall_ids=""))
    assert response.status_code == 400
    assert "请至少选择一个办理大厅" in text_of(response, "#f-hall_ids-error")


def test_admin_edits_an_item(client, admin):
    item = factories.item(code="HJ-010", name="旧名称", halls=[admin])
    page = client.get(f"/admin/catalog/items/{item.id}/edit")
    assert field_value(page, "name") == "旧名称"
    response = client.post(f"/admin/catalog/items/{item.id}/edit",
                           data=_item_form(admin, code="HJ-010", name="新名称"))
    assert response.status_code == 303
    db.session.refresh(item)
    assert item.name == "新名称" and item.bookable and not item.courier


def test_retiring_an_item_keeps_it_and_writes_audit(client, admin):
    item = factories.item(name="要停用的事项", halls=[admin])
    response = client.post(f"/admin/catalog/items/{item.id}/retire", data={"action": "retire"})
    assert response.status_code == 303
    db.session.refresh(item)
    assert item.retired_at is not None and item.materials
    assert 'row-title">要停用的事项' not in client.get("/services?q=停用").get_data(as_text=True)
    assert "已停止办理" in client.get(f"/services/{item.code}").get_data(as_text=True)
    client.post(f"/admin/catalog/items/{item.id}/retire", data={"action": "restore"})
    db.session.refresh(item)
    assert item.retired_at is None
    statuses = db.session.scalars(select(AuditLog.to_status).where(
        AuditLog.entity == "service_item", AuditLog.entity_id == item.id)
        .order_by(AuditLog.id)).all()
    assert statuses == ["retired", "active"]


def test_material_errors_keep_what_was_typed(client, admin):
    item = factories.item(halls=[admin])
    response = client.post(f"/admin/catalog/items/{item.id}/materials",
                           data={"name": "营业执照", "copies": "0", "notes": "加盖公章"})
    assert response.status_code == 400
    assert "份数应在 1 到 20 之间" in text_of(response, "#f-copies-error")
    assert "请选择原件或复印件" in text_of(response, "#f-original-error")
    assert field_value(response, "name") == "营业执照"
    assert field_value(response, "notes") == "加盖公章"
    assert len(db.session.get(ServiceItem, item.id).materials) == 2


def test_admin_edits_moves_and_retires_materials(client, admin):
    item = factories.item(materials=("甲", "乙", "丙"), halls=[admin])
    first, second, third = item.materials
    response = client.post(f"/admin/catalog/materials/{second.id}/edit",
                           data={"name": "乙(新)", "original": "0", "copies": "2",
                                 "may_be_missing": "1"})
    assert response.status_code == 303
    client.post(f"/admin/catalog/materials/{third.id}/move", data={"direction": "up"})
    client.post(f"/admin/catalog/materials/{first.id}/retire", data={"action": "retire"})
    db.session.expire_all()
    item = db.session.get(ServiceItem, item.id)
    assert [m.name for m in item.active_materials] == ["丙", "乙(新)"]
    assert item.active_materials[1].form_label == "复印件 2 份"
    assert item.active_materials[1].may_be_missing and not item.active_materials[1].photo_ok
    assert db.session.get(Material, first.id).retired_at is not None  # history kept
    page = client.get(f"/admin/catalog/items/{item.id}").get_data(as_text=True)
    assert "已停用的材料" in page


def test_admin_creates_edits_and_retires_a_bundle(client, admin):
    a, b, c = (factories.item(name=name, halls=[admin]) for name in ("甲事项", "乙事项", "丙事项"))
    form = {"code": "YJS-NEW", "name": "我要开网店", "summary": "", "keywords": "网店",
            "audience": "company", "item_ids": [str(b.id), str(a.id)]}
    assert client.post("/admin/catalog/bundles/new", data=form).status_code == 303
    bundle = db.session.scalar(select(Bundle).where(Bundle.code == "YJS-NEW"))
    assert bundle.items == [a, b] or bundle.items == [b, a]
    response = client.post(f"/admin/catalog/bundles/{bundle.id}/edit",
                           data=form | {"item_ids": [str(a.id), str(c.id)]})
    assert response.status_code == 303
    db.session.refresh(bundle)
    assert {i.id for i in bundle.items} == {a.id, c.id}
    assert "我要开网店" in texts(client.get("/services?q=网店"), ".row-title")
    client.post(f"/admin/catalog/bundles/{bundle.id}/retire", data={"action": "retire"})
    assert 'row-title">我要开网店' not in client.get("/services?q=网店").get_data(as_text=True)
    assert client.get("/bundles/YJS-NEW").status_code == 200


def test_bundle_form_needs_two_items_and_keeps_input(client, admin):
    a = factories.item(halls=[admin])
    form = {"code": "bad code", "name": "我要开网店", "audience": "", "item_ids": [str(a.id)]}
    response = client.post("/admin/catalog/bundles/new", data=form)
    assert response.status_code == 400
    for name, message in [("item_ids", "一件事至少包含两个事项"), ("code", "编码只能用字母"),
                          ("audience", "请选择服务对象")]:
        assert message in text_of(response, f"#f-{name}-error")
    assert field_value(response, "name") == "我要开网店"
    assert one(response, f'input[name="item_ids"][value="{a.id}"]').has_attr("checked")


def test_unknown_rows_are_404(client, admin):
    assert client.get("/admin/catalog/items/999").status_code == 404
    assert client.get("/admin/catalog/materials/999/edit").status_code == 404
    assert client.post("/admin/catalog/bundles/999/retire").status_code == 404
    assert client.get("/admin/catalog/export.xml").status_code == 404


def test_admin_forms_need_csrf(client, admin):
    item = factories.item()
    response = client.post(f"/admin/catalog/items/{item.id}/retire", csrf=False)
    assert response.status_code == 400
    assert db.session.get(ServiceItem, item.id).retired_at is None
