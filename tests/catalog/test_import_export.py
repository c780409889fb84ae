"""Catalog import and export as YAML and CSV: round trips, and a bad file changes nothing."""

import io

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError

import factories
from app.catalog import io as catalog_io
from app.catalog.csvfile import CSV_COLUMNS
from app.catalog.filecheck import CatalogError, parse, validate
from app.catalog.models import Bundle, Hall, Material, ServiceItem
from app.cli import DEMO_CATALOG
from app.extensions import db

GOOD = """\
halls:
  - name: 测试大厅
    short_name: 测试
    address: 测试路 1 号
    phone: 0482-1
    hours: 工作日
    windows:
      - {code: A01, name: 综合窗口}
items:
  - code: T-1
    name: 事项一
    department: 甲局
    topic: 户籍
    halls: [测试大厅]
    windows: [测试大厅/A01]
    materials:
      - {name: 身份证, original: true, copies: 1}
  - code: T-2
    name: 事项二
    department: 乙局
    topic: 户籍
    materials:
      - {name: 身份证}
bundles:
  - {code: B-1, name: 合办, items: [T-1, T-2]}
"""


def _counts():
    return [db.session.scalar(select(func.count()).select_from(m))
            for m in (Hall, ServiceItem, Material, Bundle)]


def test_demo_catalog_imports_and_round_trips_through_yaml_and_csv(runner):
    assert runner.invoke(args=["catalog", "import", str(DEMO_CATALOG)]).exit_code == 0
    before = _counts()
    yaml_text = runner.invoke(args=["catalog", "export"]).output
    csv_text = runner.invoke(args=["catalog", "export", "--format", "csv"]).output
    assert csv_text.startswith("type,parent,code,name")
    assert "item,,SC-003,食品经营许可" in csv_text
    data = parse(yaml_text)
    assert validate(data) == []
    report = catalog_io.import_catalog(csv_text, "csv")
    assert report.created == 0 and report.updated > 0
    assert _counts() == before
    assert catalog_io.export_catalog() == yaml_text
    assert catalog_io.export_csv() == csv_text


def test_cli_import_of_a_bad_row_changes_nothing_and_names_the_row(runner, tmp_path):
    factories.item(code="KEEP", name="原有事项")
    before = _counts()
    bad = GOOD.replace("  - code: T-2\n    name: 事项二\n", "  - code: T-2\n    name: 事项二\n"
                       "    legal_days: 十五\n")
    path = tmp_path / "catalog.yaml"
    path.write_text(bad, encoding="utf-8")
    result = runner.invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 1
    assert "导入失败,没有做任何修改" in result.output
    assert "第 18 行(事项 T-2):法定时限(legal_days) 应为整数" in result.output
    assert _counts() == before


def test_every_bad_row_is_named_with_its_line(app):
    bad = GOOD.replace("department: 乙局", "department: 乙局\n    audience: 群众") \
              .replace("{name: 身份证}", "{copies: 0}") \
              .replace("items: [T-1, T-2]", "items: [T-1, T-9]") \
              .replace("windows: [测试大厅/A01]", "windows: [测试大厅/Z99]")
    with pytest.raises(CatalogError) as caught:
        catalog_io.import_catalog(bad)
    errors = caught.value.errors
    assert "第 10 行(事项 T-1):窗口 测试大厅/Z99 不存在" in errors
    assert "第 18 行(事项 T-2):服务对象(audience) 只能是 individual 或 company" in errors
    assert "第 24 行(材料):缺少材料名称" in errors
    assert "第 24 行(材料):份数(copies) 应在 1 到 20 之间" in errors
    assert "第 26 行(一件事 B-1):事项 T-9 不存在" in errors
    assert _counts() == [0, 0, 0, 0]


def test_a_database_error_midway_rolls_everything_back(app):
    """The database refuses the first bundle row, after the halls and items went in: the whole
    import is undone. The fault is the database's own error (a statement it cannot run), raised
    where the bundle is written, through SQLAlchemy's public mapper events."""
    written_before_the_fault = []

    def refuse(mapper, connection, target):
        items = connection.scalar(select(func.count()).select_from(ServiceItem))
        written_before_the_fault.append(items)
        connection.exec_driver_sql("SELECT * FROM disk_full")  # no such table: a real DB error

    event.listen(Bundle, "before_insert", refuse)
    try:
        with pytest.raises(DBAPIError):
            catalog_io.import_catalog(GOOD)
    finally:
        event.remove(Bundle, "before_insert", refuse)
    assert written_before_the_fault == [2]  # it failed midway, not before anything was written
    assert _counts() == [0, 0, 0, 0]


@pytest.mark.parametrize("text, message", [
    ("items: [oops", "YAML 格式错误"),
    ("- just a list", "应为包含 halls / items / bundles"),
    ("items: [plain text]", "items 第 1 条应为对象"),
    ("colours: []", "未知的部分 colours"),
    ("items:\n  - {code: T-1, name: 甲, department: 局, topic: 户籍, colour: red}",
     "未知字段 colour"),
    ("items:\n  - {code: T-1, name: 甲, department: 局, topic: 户籍, bookable: 是的}",
     "可预约(bookable) 应为true 或 false"),
    ("items:\n  - {code: T-1, name: " + "长" * 200 + ", department: 局, topic: 户籍}",
     "名称(name) 不能超过 120 个字"),
    ("items:\n  - {code: T-1, name: 甲, department: 局, topic: 户籍}\n"
     "  - {code: T-1, name: 乙, department: 局, topic: 户籍}", "事项编码 T-1 重复"),
])
def test_malformed_files_are_refused_with_a_reason(app, text, message):
    with pytest.raises(CatalogError) as caught:
        catalog_io.import_catalog(text)
    assert any(message in e for e in caught.value.errors), caught.value.errors


CSV_HEAD = ",".join(CSV_COLUMNS)


def _csv(*rows):
    out = io.StringIO()
    import csv

    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def test_csv_import_creates_items_materials_and_bundles(app):
    text = _csv(
        {"type": "item", "code": "C-1", "name": "甲", "department": "局", "topic": "户籍",
         "steps": "提交|审核", "bookable": "否", "legal_days": "10", "promised_days": "2"},
        {"type": "material", "parent": "C-1", "name": "身份证", "original": "是", "copies": "2"},
        {"type": "item", "code": "C-2", "name": "乙", "department": "局", "topic": "户籍"},
        {"type": "bundle", "code": "CB", "name": "甲乙", "items": "C-1|C-2"},
    )
    catalog_io.import_catalog(text, "csv")
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "C-1"))
    assert item.steps == ["提交", "审核"] and item.bookable is False and item.legal_days == 10
    assert item.materials[0].copies == 2 and item.materials[0].original is True
    assert db.session.scalar(select(Bundle)).items[1].code == "C-2"


def test_csv_bad_rows_are_named_by_line_and_nothing_is_imported(app):
    text = _csv(
        {"type": "item", "code": "C-1", "name": "甲", "department": "局", "topic": "户籍"},
        {"type": "material", "parent": "C-9", "name": "身份证"},
        {"type": "item", "code": "C-2", "name": "乙", "department": "局", "topic": "户籍",
         "legal_days": "十"},
        {"type": "thing", "name": "?"},
        {"type": "bundle", "code": "CB", "name": "甲乙", "items": "C-1|C-3"},
    )
    with pytest.raises(CatalogError) as caught:
        catalog_io.import_catalog(text, "csv")
    errors = caught.value.errors
    assert any(e.startswith("第 3 行:parent 应为本文件中前面出现过的事项") for e in errors)
    assert "第 4 行:法定时限(legal_days) 应为整数" in errors
    assert any(e.startswith("第 5 行:type 应为") for e in errors)
    assert "第 6 行(一件事 CB):事项 C-3 不存在" in errors
    assert _counts() == [0, 0, 0, 0]


def test_csv_line_numbers_count_multi_line_cells(app):
    text = _csv(
        {"type": "item", "code": "C-1", "name": "甲", "department": "局", "topic": "户籍",
         "summary": "第一行\n第二行"},
        {"type": "item", "code": "C-2", "name": "乙", "department": "局", "topic": "户籍",
         "visits": "3"},
    )
    with pytest.raises(CatalogError) as caught:
        catalog_io.import_catalog(text, "csv")
    assert caught.value.errors == ["第 4 行(事项 C-2):跑动次数(visits) 应在 0 到 1 之间"]


def test_csv_with_unknown_columns_or_not_utf8_is_refused(app):
    with pytest.raises(CatalogError, match="未知列 colour"):
        catalog_io.import_catalog("type,code,colour\nitem,A,red\n", "csv")
    with pytest.raises(CatalogError, match="UTF-8"):
        catalog_io.import_file("type,code\n".encode("gbk") + "事项".encode("gbk"), "a.csv")


def test_import_of_a_changed_item_retires_dropped_materials(app):
    catalog_io.import_catalog(GOOD)
    catalog_io.import_catalog(GOOD.replace("      - {name: 身份证, original: true, copies: 1}",
                                           "      - {name: 户口簿}"))
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "T-1"))
    assert [m.name for m in item.active_materials] == ["户口簿"]
    assert [m.name for m in item.materials if m.retired_at] == ["身份证"]


def test_admin_uploads_a_bad_file_and_sees_each_row(client, auth):
    factories.staff("boss", "boss-password-1", role="admin")
    auth.login_staff("boss", "boss-password-1")
    bad = GOOD.replace("items: [T-1, T-2]", "items: [T-1, T-9]")
    response = client.post("/admin/catalog/import", data={
        "file": (io.BytesIO(bad.encode()), "catalog.yaml")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "catalog.yaml 没有导入" in page and "第 25 行(一件事 B-1):事项 T-9 不存在" in page
    assert _counts() == [0, 0, 0, 0]
    response = client.post("/admin/catalog/import", data={
        "file": (io.BytesIO(GOOD.encode()), "catalog.yaml")}, content_type="multipart/form-data")
    assert response.status_code == 303 and _counts() == [1, 2, 2, 1]
    response = client.get("/admin/catalog/export.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers[
        "Content-Disposition"]
    assert "material,T-1,,身份证" in response.get_data(as_text=True)
    assert "请选择要导入的文件" in client.post("/admin/catalog/import").get_data(as_text=True)
