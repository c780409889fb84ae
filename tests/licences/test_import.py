"""存量证照导入: a CSV of licences from before the app, all or nothing, each bad row named."""

import io

import pytest
from html_kit import errors
from licences.licence_kit import World
from sqlalchemy import func, select

from app.extensions import db
from app.licences.models import Company, CompanyMember, Licence

HEAD = ("type,number,holder_name,holder_phone,credit_code,linked_phones,department,issued_on,"
        "expires_on")
GOOD = [
    "营业执照,91152201MA0N4D3X1B,兴安味道餐饮有限公司,,91152201MA0N4D3X1B,13800138000|13900139000,"
    "市场监督管理局,2024-03-18,",
    "marriage_cert,J2019-1,张三,13800138000,,,民政局,2019-05-20,长期",
    "residence_permit,JZ-2025-7,王五,13700137000,,,公安局,2025-01-01,2026-12-31",
]


@pytest.fixture
def world(app):
    return World(app)


def _post(world, lines, who=None):
    client = world.client(who or world.admin)
    data = ("\n".join([HEAD, *lines]) + "\n").encode()
    return client.post("/staff/licences/import", data={"file": (io.BytesIO(data), "old.csv")},
                       content_type="multipart/form-data")


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Licence))


def test_a_good_file_imports_every_licence_and_links_the_companys_people(world):
    response = _post(world, GOOD)
    assert response.status_code == 200 and "已导入 3 本证照" in response.get_data(as_text=True)
    assert _count() == 3
    company = db.session.scalar(select(Company))
    members = db.session.scalars(select(CompanyMember.user_id).where(
        CompanyMember.company_id == company.id)).all()
    assert set(members) == {world.citizen.id, world.other.id}
    page = world.client(world.other).get("/licences").get_data(as_text=True)
    assert "兴安味道餐饮有限公司" in page  # a linked person's wallet shows the company's licence
    mine = world.client(world.citizen).get("/licences").get_data(as_text=True)
    assert "结婚证" in mine and "营业执照" in mine
    # Imported again: every row is now a duplicate, and nothing more goes in.
    again = _post(world, GOOD)
    assert again.status_code == 400 and "重复" in errors(again)
    assert _count() == 3


@pytest.mark.parametrize("line, words", [
    ("驾驶执照,X-1,张三,13800138000,,,公安局,2020-01-01,", "第 3 行:未知的证照类型“驾驶执照”"),
    ("business_licence,Y-1,某公司,,91152201MA0N4D3X1C,,市场监督管理局,2020-01-01,",
     "第 3 行:统一社会信用代码“91152201MA0N4D3X1C”不正确"),
    ("residence_permit,Z-1,张三,13800138000,,,公安局,2026-01-01,2025-12-31",
     "第 3 行:日期顺序不对"),
    ("residence_permit,Z-2,张三,13800138000,,,公安局,2026-13-01,", "第 3 行:发证日期"),
])
def test_one_bad_row_refuses_the_whole_file_and_is_named(world, line, words):
    response = _post(world, [GOOD[1], line, GOOD[2]])
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and words in errors(response) and "文件未导入" in text
    assert _count() == 0


def test_every_bad_row_is_named_at_once(world):
    response = _post(world, [
        "驾驶执照,X-1,张三,13800138000,,,公安局,2020-01-01,",
        "business_licence,Y-1,某公司,,91152201MA0N4D3X1C,,市场监督管理局,2020-01-01,",
        "residence_permit,Z-1,张三,13800138000,,,公安局,2026-01-01,2025-12-31"])
    text = response.get_data(as_text=True)
    assert all(f"第 {n} 行" in text for n in (2, 3, 4)) and _count() == 0


def test_a_file_that_is_not_a_licence_csv_is_refused_in_chinese(world):
    client = world.client(world.admin)
    for data, words in [(b"\xff\xfe\x00bad", "UTF-8"), (b"a,b\n1,2\n", "缺少列"),
                        (HEAD.encode() + b"\n", "没有证照数据")]:
        response = client.post("/staff/licences/import", data={
            "file": (io.BytesIO(data), "x.csv")}, content_type="multipart/form-data")
        assert response.status_code == 400 and words in errors(response)
    empty = client.post("/staff/licences/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400


def test_only_admins_import(world):
    assert _post(world, GOOD, who=world.clerk).status_code == 403
    assert _count() == 0
