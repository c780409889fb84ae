"""Demo data and the catalog commands."""

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.catalog.models import Bundle, Hall, ServiceItem
from app.extensions import db


def test_demo_load_fills_an_empty_database_once(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0 and "已载入" in result.output
    assert db.session.scalar(select(func.count()).select_from(Hall)) == 2
    assert db.session.scalar(select(func.count()).select_from(ServiceItem)) >= 12
    assert db.session.scalar(select(Bundle.name).where(Bundle.code == "YJS-KFD")) == "我要开饭店"
    assert {u.role for u in db.session.scalars(select(User))} >= {"clerk", "admin"}
    again = runner.invoke(args=["demo", "load"])
    assert "跳过" in again.output
    assert db.session.scalar(select(func.count()).select_from(Hall)) == 2


def test_demo_accounts_can_sign_in(runner, client, auth):
    runner.invoke(args=["demo", "load"])
    auth.login_staff("clerk", "clerk-demo-2026")
    assert "王丽" in client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize("username, password, label", [
    ("clerk2", "clerk2-demo-2026", "窗口工作人员 · 科右前旗大厅"),
    ("admin2", "admin2-demo-2026", "大厅管理员 · 科右前旗大厅"),
    ("city", "city-demo-2026", "市级管理员"),
])
def test_the_demo_has_a_second_halls_staff_and_a_city_wide_admin(runner, client, auth, username,
                                                                 password, label):
    """So the matrix of who may do what can be tried by hand (README, "Roles and scopes")."""
    runner.invoke(args=["demo", "load"])
    auth.login_staff(username, password)
    assert label in client.get("/me").get_data(as_text=True)


def test_catalog_round_trip(runner, tmp_path):
    runner.invoke(args=["demo", "load"])
    exported = runner.invoke(args=["catalog", "export"]).output
    path = tmp_path / "catalog.yaml"
    path.write_text(exported, encoding="utf-8")
    result = runner.invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增 0" in result.output


def test_bad_catalog_changes_nothing_and_names_the_row(runner, tmp_path):
    runner.invoke(args=["demo", "load"])
    before = db.session.scalar(select(func.count()).select_from(ServiceItem))
    path = tmp_path / "bad.yaml"
    path.write_text("items:\n  - code: NEW-1\n    name: 新事项\n    department: 某局\n"
                    "    topic: 户籍\n  - code: NEW-2\n    name: 缺部门\n    topic: 户籍\n",
                    encoding="utf-8")
    result = runner.invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 1
    assert "第 6 行" in result.output and "department" in result.output
    assert db.session.scalar(select(func.count()).select_from(ServiceItem)) == before
