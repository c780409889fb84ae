"""The catalog says which licence an item issues on 办结 (and for how long) and which licence
stands in for a material (issue 23): set on the admin pages and in a catalog file, both checked
by one rule (app/licences/types.py licence_problems), within the admin's scope."""

import csv
import io

import pytest
from html_kit import errors, field_value, text_of
from licences.licence_kit import PASSWORD, World, _staff
from sqlalchemy import select

import factories
from app.catalog import io as catalog_io
from app.catalog.csvfile import CSV_COLUMNS
from app.catalog.filecheck import CatalogError
from app.catalog.models import Material, ServiceItem
from app.extensions import db
from app.licences.models import Licence


@pytest.fixture
def world(app):
    return World(app)


def _item_form(item, hall, **overrides) -> dict:
    form = {"code": item.code, "name": item.name, "department": item.department,
            "audience": item.audience, "topic": item.topic, "legal_days": "20",
            "promised_days": "5", "visits": "1", "steps": "提交材料\n发证",
            "hall_ids": str(hall.id), "window_ids": str(hall.windows[0].id)}
    return form | overrides


def _material_form(**overrides) -> dict:
    return {"name": "居住证", "original": "1", "copies": "1", "photo_ok": "1"} | overrides


def _stored(item_id: int) -> tuple:
    db.session.expire_all()
    item = db.session.get(ServiceItem, item_id)
    return item.name, item.licence_type, item.licence_years


def test_an_admin_says_which_licence_an_item_issues_and_for_how_long(world):
    admin, item = world.client(world.admin), world.issuer
    form = admin.get(f"/admin/catalog/items/{item.id}/edit")
    assert field_value(form, "licence_type") == "residence_permit"
    assert field_value(form, "licence_years") == "1"
    response = admin.post(f"/admin/catalog/items/{item.id}/edit", data=_item_form(
        item, world.hall, licence_type="residence_permit", licence_years="3"))
    assert response.status_code == 303
    assert _stored(item.id)[1:] == ("residence_permit", 3)
    page = admin.get(f"/admin/catalog/items/{item.id}")
    assert "办结后核发:居住证,3 年有效" in page.get_data(as_text=True)
    # Empty validity: long-term; no type: the item issues nothing.
    admin.post(f"/admin/catalog/items/{item.id}/edit", data=_item_form(
        item, world.hall, licence_type="residence_permit", licence_years=""))
    assert _stored(item.id)[1:] == ("residence_permit", None)
    assert "居住证,长期有效" in admin.get(f"/admin/catalog/items/{item.id}").get_data(
        as_text=True)
    admin.post(f"/admin/catalog/items/{item.id}/edit", data=_item_form(item, world.hall))
    assert _stored(item.id)[1:] == (None, None)


def test_a_new_item_can_issue_a_licence(world):
    admin = world.client(world.admin)
    response = admin.post("/admin/catalog/items/new", data={
        "code": "JH-001", "name": "结婚登记", "department": "民政局", "audience": "individual",
        "topic": "民政婚姻", "legal_days": "1", "promised_days": "0", "visits": "1",
        "steps": "双方到场\n领证", "window_ids": str(world.hall.windows[0].id),
        "licence_type": "marriage_cert", "licence_years": ""})
    assert response.status_code == 303
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "JH-001"))
    assert (item.licence_type, item.licence_years) == ("marriage_cert", None)


@pytest.mark.parametrize("changes, words", [
    ({"licence_type": "driving_licence"}, "没有“driving_licence”这种电子证照"),
    ({"licence_years": "三年"}, "证照有效期只能填 1 到 50 的整数年数"),
    ({"licence_years": "0"}, "证照有效期应在 1 到 50 年之间"),
    ({"licence_years": "51"}, "证照有效期应在 1 到 50 年之间"),
    ({"licence_years": "99999999999999"}, "证照有效期只能填 1 到 50 的整数年数"),
    ({"licence_type": "", "licence_years": "5"}, "没有选择办结后核发的证照,有效期请留空"),
    ({"licence_type": "business_licence"}, "营业执照发给法人,只有服务对象为“法人”的事项才能核发"),
    ({"licence_type": "residence_permit", "audience": "company"},
     "居住证发给个人,只有服务对象为“个人”的事项才能核发"),
], ids=["unknown type", "years not a number", "zero years", "too many years", "huge number",
        "years without a type", "a company's licence from an individual item",
        "a person's licence from a company item"])
def test_a_bad_licence_setting_is_refused_beside_the_field_keeping_what_was_typed(
        world, changes, words):
    admin, item = world.client(world.admin), world.issuer
    before = _stored(item.id)
    typed = _item_form(item, world.hall, name="居住证办理(新)", licence_type="residence_permit",
                       licence_years="2") | changes
    response = admin.post(f"/admin/catalog/items/{item.id}/edit", data=typed)
    assert response.status_code == 400
    assert words in errors(response)
    assert field_value(response, "name") == "居住证办理(新)"
    assert field_value(response, "licence_years") == typed["licence_years"]
    if typed["licence_type"] in ("", "residence_permit", "business_licence"):
        assert field_value(response, "licence_type") == typed["licence_type"]
    assert _stored(item.id) == before


def test_an_admin_says_which_licence_stands_in_for_a_material(world):
    admin, item = world.client(world.admin), world.user_item
    response = admin.post(f"/admin/catalog/items/{item.id}/materials",
                          data=_material_form(name="结婚证", licence_type="marriage_cert"))
    assert response.status_code == 303
    added = db.session.scalar(select(Material).where(Material.name == "结婚证"))
    assert added.licence_type == "marriage_cert"
    page = admin.get(f"/admin/catalog/items/{item.id}").get_data(as_text=True)
    assert "可用结婚证代替" in page and "可用居住证代替" in page
    form = admin.get(f"/admin/catalog/materials/{added.id}/edit")
    assert field_value(form, "licence_type") == "marriage_cert"
    response = admin.post(f"/admin/catalog/materials/{added.id}/edit",
                          data=_material_form(name="结婚证", licence_type=""))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Material, added.id).licence_type is None


def test_the_material_an_admin_marks_asks_no_photo_of_a_holder(world):
    """The whole way: the admin names the licence, and a citizen holding one sees 免提交."""
    from datetime import date

    rent = world.user_item.materials[1]  # 租房合同: no licence stands in for it yet
    admin = world.client(world.admin)
    response = admin.post(f"/admin/catalog/materials/{rent.id}/edit", data=_material_form(
        name="租房合同", licence_type="property_cert"))
    assert response.status_code == 303
    db.session.add(Licence(type_code="property_cert", number="BD-1", holder_name="张三",
                           holder_user_id=world.citizen.id, department="自然资源局",
                           hall_id=world.hall.id, issued_on=date(2025, 1, 1)))
    db.session.commit()
    citizen = world.client(world.citizen)
    row = world.draft(citizen, world.user_item)
    page = citizen.get(f"/applications/{row.id}/materials").get_data(as_text=True)
    assert "已有电子证照,无需提交" in page and "BD-1" in page


@pytest.mark.parametrize("how", ["add", "edit"])
def test_an_unknown_licence_for_a_material_is_refused_keeping_what_was_typed(world, how):
    admin, item = world.client(world.admin), world.user_item
    material = item.materials[1]
    url = (f"/admin/catalog/items/{item.id}/materials" if how == "add"
           else f"/admin/catalog/materials/{material.id}/edit")
    response = admin.post(url, data=_material_form(name="房产证明", copies="2",
                                                   licence_type="house"))
    assert response.status_code == 400
    assert "没有“house”这种电子证照" in errors(response)
    assert field_value(response, "name") == "房产证明" and field_value(response, "copies") == "2"
    db.session.expire_all()
    assert db.session.scalar(select(Material).where(Material.name == "房产证明")) is None
    assert db.session.get(Material, material.id).licence_type is None


def test_a_hall_admin_sets_no_licence_on_an_item_that_is_not_their_halls_alone(world):
    theirs = factories.item(halls=[world.other_hall], materials=("身份证",), code="B-9")
    shared = factories.item(halls=[world.hall, world.other_hall], materials=("身份证",),
                            code="AB-9")
    admin = world.client(world.admin)
    for item in (theirs, shared):
        response = admin.post(f"/admin/catalog/items/{item.id}/edit", data=_item_form(
            item, world.hall, licence_type="residence_permit"))
        assert response.status_code == 403
        response = admin.post(f"/admin/catalog/materials/{item.materials[0].id}/edit",
                              data=_material_form(name="身份证", licence_type="residence_permit"))
        assert response.status_code == 403
        db.session.expire_all()
        assert db.session.get(ServiceItem, item.id).licence_type is None
        assert db.session.get(Material, item.materials[0].id).licence_type is None
    # A city-wide admin may.
    city = _staff("city1", None, role="admin")
    client = world.app.test_client()
    client.post("/staff/login", data={"username": city.username, "password": PASSWORD})
    response = client.post(f"/admin/catalog/items/{shared.id}/edit", data=_item_form(
        shared, world.hall, licence_type="residence_permit", licence_years="2",
        hall_ids=[str(world.hall.id), str(world.other_hall.id)]))
    assert response.status_code == 303
    assert _stored(shared.id)[1:] == ("residence_permit", 2)


# ---- the catalog file: the same check ----

def _csv(*rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


ITEM = {"type": "item", "department": "局", "topic": "户籍"}


def test_a_catalog_csv_carries_the_licence_an_item_issues_and_a_material_takes(app):
    catalog_io.import_catalog(_csv(
        ITEM | {"code": "C-1", "name": "居住证", "licence_type": "residence_permit",
                "licence_years": "3"},
        {"type": "material", "parent": "C-1", "name": "结婚证", "licence_type": "marriage_cert"},
    ), "csv")
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "C-1"))
    assert (item.licence_type, item.licence_years) == ("residence_permit", 3)
    assert item.materials[0].licence_type == "marriage_cert"


def test_a_catalog_csv_with_bad_licence_settings_is_refused_each_row_named(app):
    text = _csv(
        ITEM | {"code": "C-1", "name": "甲", "licence_type": "driving_licence"},
        {"type": "material", "parent": "C-1", "name": "证明", "licence_type": "house"},
        ITEM | {"code": "C-2", "name": "乙", "licence_type": "residence_permit",
                "licence_years": "0"},
        ITEM | {"code": "C-3", "name": "丙", "licence_years": "5"},
        ITEM | {"code": "C-4", "name": "丁", "licence_type": "business_licence"},
        ITEM | {"code": "C-5", "name": "戊", "audience": "company",
                "licence_type": "business_licence", "licence_years": "20"},
    )
    with pytest.raises(CatalogError) as caught:
        catalog_io.import_catalog(text, "csv")
    found = caught.value.errors
    assert any(e.startswith("第 2 行(事项 C-1):没有“driving_licence”这种电子证照") for e in found)
    assert any(e.startswith("第 3 行(材料 证明):没有“house”这种电子证照") for e in found)
    assert "第 4 行(事项 C-2):证照有效期应在 1 到 50 年之间,长期有效请留空" in found
    assert "第 5 行(事项 C-3):没有选择办结后核发的证照,有效期请留空" in found
    assert ("第 6 行(事项 C-4):营业执照发给法人,只有服务对象为“法人”的事项才能核发"
            in found)
    assert not any(e.startswith("第 7 行") for e in found)  # a good row is not named
    assert db.session.scalar(select(ServiceItem).limit(1)) is None


def test_an_update_that_names_no_audience_is_checked_against_the_stored_one(app):
    factories.item(code="C-9", audience="company")
    catalog_io.import_catalog(_csv(ITEM | {"code": "C-9", "name": "企业设立",
                                           "licence_type": "business_licence"}), "csv")
    assert db.session.scalar(select(ServiceItem.licence_type).where(
        ServiceItem.code == "C-9")) == "business_licence"


def test_the_admin_upload_shows_the_licence_rows_it_refused(world):
    admin = world.client(world.admin)
    bad = _csv(ITEM | {"code": "JZ-001", "name": "居住证办理", "halls": world.hall.name,
                       "licence_type": "residence_permit", "licence_years": "80"})
    response = admin.post("/admin/catalog/import", data={
        "file": (io.BytesIO(bad.encode()), "catalog.csv")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "第 2 行(事项 JZ-001):证照有效期应在 1 到 50 年之间" in text_of(response, "main")
    assert _stored(world.issuer.id)[1:] == ("residence_permit", 1)


def test_a_hall_admins_file_sets_licences_only_on_their_halls_own_items(world):
    theirs = factories.item(halls=[world.other_hall], code="B-9", name="乙的事项")
    admin = world.client(world.admin)
    text = f"""\
items:
  - {{code: JZ-001, name: 居住证办理, department: 公安局, topic: 户籍, halls: [{world.hall.name}],
     licence_type: residence_permit, licence_years: 2}}
  - {{code: B-9, name: 乙的事项, department: 测试局, topic: 户籍, halls: [{world.other_hall.name}],
     licence_type: residence_permit}}
"""
    response = admin.post("/admin/catalog/import", data={
        "file": (io.BytesIO(text.encode()), "catalog.yaml")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "第 4 行(事项 B-9):本大厅" in text_of(response, "main")
    assert "第 2 行" not in text_of(response, ".import-errors")
    assert _stored(theirs.id)[1:] == (None, None)
    assert _stored(world.issuer.id)[1:] == ("residence_permit", 1)  # all or nothing
    response = admin.post("/admin/catalog/import", data={
        "file": (io.BytesIO(text.split("  - {code: B-9")[0].encode()), "catalog.yaml")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    assert _stored(world.issuer.id)[1:] == ("residence_permit", 2)
