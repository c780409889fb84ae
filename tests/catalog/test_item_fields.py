"""申请表字段: admins define an item's own questions as lines; bad lines are named; import and
export carry them."""

import csv
import io

import pytest
from sqlalchemy import select

import factories
from app.catalog import fields as form_fields
from app.catalog import io as catalog_io
from app.catalog.csvfile import CSV_COLUMNS
from app.catalog.filecheck import CatalogError
from app.catalog.models import CatalogRevision, ServiceItem
from app.cli import DEMO_CATALOG
from app.core.models import AuditLog
from app.extensions import db

LINES = """变更事项|选择|必填|名称,住所,法定代表人,经营范围,注册资本
变更后内容|多行文本|必填||写明变更后的内容|300

成立日期|日期|选填
注册资本(万元)|number"""


@pytest.fixture
def admin(client, auth):
    hall = factories.hall()
    factories.staff("boss", "boss-password-1", role="admin", hall_row=hall)
    auth.login_staff("boss", "boss-password-1")
    return hall


def _revision() -> int:
    db.session.expire_all()
    return db.session.get(CatalogRevision, 1).version


def test_admin_defines_fields_as_lines_and_the_revision_moves(client, admin):
    item = factories.item(halls=[admin])
    page = client.get(f"/admin/catalog/items/{item.id}").get_data(as_text=True)
    assert "申请表字段" in page and "名称|类型|必填或选填" in page
    before = _revision()
    response = client.post(f"/admin/catalog/items/{item.id}/fields", data={"fields": LINES})
    assert response.status_code == 303 and response.location.endswith("#fields")
    assert _revision() > before
    item = db.session.get(ServiceItem, item.id)
    assert item.form_fields == [
        {"key": "变更事项", "label": "变更事项", "kind": "select", "required": True,
         "options": ["名称", "住所", "法定代表人", "经营范围", "注册资本"], "hint": "",
         "max_length": None},
        {"key": "变更后内容", "label": "变更后内容", "kind": "textarea", "required": True,
         "options": [], "hint": "写明变更后的内容", "max_length": 300},
        {"key": "成立日期", "label": "成立日期", "kind": "date", "required": False,
         "options": [], "hint": "", "max_length": None},
        {"key": "注册资本万元", "label": "注册资本(万元)", "kind": "number", "required": True,
         "options": [], "hint": "", "max_length": None},
    ]
    assert db.session.scalar(select(AuditLog).where(
        AuditLog.entity == "service_item", AuditLog.to_status == "fields_saved"))
    page = client.get(f"/admin/catalog/items/{item.id}").get_data(as_text=True)
    assert "变更后内容|多行文本|必填||写明变更后的内容|300" in page and "4 个" in page


def test_bad_lines_are_refused_each_named_and_the_text_is_kept(client, admin):
    item = factories.item(halls=[admin], form_fields=[
        form_fields.clean({"key": "old", "label": "旧字段"})])
    text = ("变更事项|选择|必填|名称\n"          # one option only
            "备注|多行文本|可能\n"               # neither 必填 nor 选填
            "期限|日历\n"                        # unknown kind
            "金额|数字|必填|一,二\n"             # options on a number
            "\n"
            "变更事项|文本\n"                    # the same name twice
            "说明|文本|选填||提示|很多\n"        # max length not a number
            "好字段|文本")
    response = client.post(f"/admin/catalog/items/{item.id}/fields", data={"fields": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ["第 1 行:选择题至少要有两个选项", "第 2 行:第三栏应为“必填”或“选填”",
                    "第 3 行:类型“日历”不认识", "第 4 行:只有“选择”类型才能填写选项",
                    "第 6 行:与第 1 行的字段重名", "第 7 行:最多字数只能填数字"]:
        assert message in page
    assert "第 8 行" not in page
    assert "说明|文本|选填||提示|很多" in page  # what was typed is kept
    db.session.refresh(item)
    assert [f["key"] for f in item.form_fields] == ["old"]


def test_full_width_separators_work_and_a_kept_name_keeps_its_key():
    existing = [form_fields.clean({"key": "change_type", "label": "变更事项", "kind": "select",
                                   "options": ["名称", "住所"]})]
    text = "新字段｜文本\n变更事项｜选择｜必填｜名称，住所、经营范围"
    fields, errors = form_fields.parse_lines(text, existing)
    assert errors == []
    assert [f["key"] for f in fields] == ["新字段", "change_type"]
    assert fields[1]["options"] == ["名称", "住所", "经营范围"]
    assert form_fields.parse_lines(form_fields.to_lines(fields), fields)[0] == fields


def test_too_many_columns_and_over_long_parts_are_named():
    _, errors = form_fields.parse_lines("a|文本|必填||提示|10|多余\n" + "长" * 31 + "|文本")
    assert errors[0].startswith("第 1 行:最多 6 栏")
    assert errors[1] == "第 2 行:字段名称不能超过 30 个字"


def test_a_citizen_or_clerk_cannot_edit_fields(client, auth):
    item = factories.item()
    auth.login_citizen()
    response = client.post(f"/admin/catalog/items/{item.id}/fields", data={"fields": "甲|文本"})
    assert response.status_code == 403
    assert db.session.get(ServiceItem, item.id).form_fields is None


FIELDS_YAML = """\
halls:
  - {name: 测试大厅, short_name: 测试, address: 测试路 1 号, phone: 0482-1, hours: 工作日}
items:
  - code: T-1
    name: 事项一
    department: 甲局
    topic: 市场主体
    halls: [测试大厅]
    fields:
      - {key: change_type, label: 变更事项, kind: select, options: [名称, 住所]}
      - {key: detail, label: 变更后内容, kind: textarea, required: false, max_length: 300}
      - {key: day, label: 日期, kind: date, hint: 年-月-日}
    materials:
      - {name: 申请书}
"""


def test_import_and_export_round_trip_with_fields_in_yaml_and_csv(app):
    catalog_io.import_catalog(FIELDS_YAML)
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "T-1"))
    assert [f["key"] for f in item.form_fields] == ["change_type", "detail", "day"]
    assert item.form_fields[1] == {"key": "detail", "label": "变更后内容", "kind": "textarea",
                                   "required": False, "options": [], "hint": "",
                                   "max_length": 300}
    stored = item.form_fields
    yaml_text = catalog_io.export_catalog()
    csv_text = catalog_io.export_csv()
    [row] = [r for r in csv.DictReader(io.StringIO(csv_text)) if r["type"] == "item"]
    assert '"key": "change_type"' in row["fields"] and "变更事项" in row["fields"]

    item.form_fields = None  # forget them, then bring them back from each file
    db.session.commit()
    catalog_io.import_catalog(yaml_text)
    db.session.expire_all()
    assert db.session.get(ServiceItem, item.id).form_fields == stored
    db.session.get(ServiceItem, item.id).form_fields = None
    db.session.commit()
    catalog_io.import_catalog(csv_text, "csv")
    db.session.expire_all()
    assert db.session.get(ServiceItem, item.id).form_fields == stored
    assert catalog_io.export_catalog() == yaml_text


def test_bad_fields_in_a_file_are_named_and_nothing_is_imported(app):
    bad = FIELDS_YAML.replace("options: [名称, 住所]", "options: [名称]").replace(
        "kind: date", "kind: colour")
    with pytest.raises(CatalogError) as err:
        catalog_io.import_catalog(bad)
    assert ("第 4 行(事项 T-1):申请表字段第 1 个:选择题至少要有两个选项,用逗号分隔"
            in err.value.errors)
    assert any("申请表字段第 3 个:类型“colour”不认识" in e for e in err.value.errors)
    assert db.session.scalar(select(ServiceItem)) is None
    head = ",".join(CSV_COLUMNS)
    line = "item,,T-9,事项九,甲局,,户籍" + "," * (len(CSV_COLUMNS) - 7) + "[not json"
    with pytest.raises(CatalogError) as err:
        catalog_io.import_catalog(f"{head}\n{line}\n", "csv")
    assert any(e.startswith("第 2 行:申请表字段(fields) 应为 JSON 列表") for e in err.value.errors)


def test_the_demo_item_for_a_licence_change_asks_what_changes(runner):
    assert runner.invoke(args=["catalog", "import", str(DEMO_CATALOG)]).exit_code == 0
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "SC-001"))
    by_key = {f["key"]: f for f in item.form_fields}
    assert by_key["change_type"]["kind"] == "select" and "住所" in by_key["change_type"]["options"]
    assert by_key["change_detail"]["kind"] == "textarea"
    photo_materials = [m for m in item.active_materials if m.photo_ok]
    assert len(photo_materials) == 4
    assert [m.name for m in photo_materials if m.may_be_missing] == ["新住所使用证明"]
