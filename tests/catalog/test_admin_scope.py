"""A hall admin (大厅管理员) changes only what belongs to their hall alone; an item several halls
share is the city's, like another hall's item: a city-wide admin (no hall) changes everything."""

import io

import pytest
from html_kit import field_value, one, soup, targets, text_of, texts
from sqlalchemy import func, select

import factories
from app.catalog import fields as form_fields
from app.catalog.models import Bundle, Hall, Material, ServiceItem
from app.core.models import AuditLog
from app.extensions import db


@pytest.fixture
def places():
    """Hall A (the signed-in admin's), hall B, and an item of each plus one they share."""
    a, b = factories.hall(name="甲政务服务中心"), factories.hall(name="乙政务服务中心")
    mine = factories.item(code="A-1", name="甲的事项", halls=[a])
    theirs = factories.item(code="B-1", name="乙的事项", halls=[b],
                            form_fields=[form_fields.clean({"key": "x", "label": "旧字段"})])
    shared = factories.item(code="AB-1", name="共同的事项", halls=[a, b])
    shared.windows = [b.windows[0]]
    db.session.commit()
    return {"a": a, "b": b, "mine": mine, "theirs": theirs, "shared": shared}


@pytest.fixture
def hall_admin(client, auth, places):
    factories.staff("a-boss", "a-boss-password", role="admin", hall_row=places["a"])
    auth.login_staff("a-boss", "a-boss-password")
    return places


@pytest.fixture
def city_admin(client, auth, places):
    factories.staff("city", "city-password-1", role="admin")
    auth.login_staff("city", "city-password-1")
    return places


def _item_form(item, hall, **overrides):
    form = {"code": item.code, "name": "改过的名称", "department": "公安局",
            "audience": "individual", "topic": "户籍", "legal_days": "15", "promised_days": "3",
            "visits": "1", "steps": "提交材料\n发证", "hall_ids": str(hall.id),
            "window_ids": str(hall.windows[0].id)}
    return form | overrides


def _state(item_id: int) -> tuple:
    """Everything an admin page could change about an item, and how many audit rows exist."""
    db.session.expire_all()
    item = db.session.get(ServiceItem, item_id)
    return (item.name, item.retired_at, item.form_fields, [h.id for h in item.halls],
            [w.id for w in item.windows],
            [(m.name, m.position, m.copies, m.retired_at) for m in item.materials],
            db.session.scalar(select(func.count()).select_from(AuditLog)))


CHANGES = ["edit-form", "edit", "fields", "retire", "add-material", "material-form",
           "material-edit", "material-retire", "material-move"]


def _change(name: str, item: ServiceItem, hall: Hall) -> tuple:
    """One request that would change `item` (or open its edit form): method, path and form."""
    material = item.materials[1]
    return {
        "edit-form": ("get", f"/admin/catalog/items/{item.id}/edit", None),
        "edit": ("post", f"/admin/catalog/items/{item.id}/edit", _item_form(item, hall)),
        "fields": ("post", f"/admin/catalog/items/{item.id}/fields", {"fields": "新字段|文本"}),
        "retire": ("post", f"/admin/catalog/items/{item.id}/retire", {"action": "retire"}),
        "add-material": ("post", f"/admin/catalog/items/{item.id}/materials",
                         {"name": "新材料", "original": "1", "copies": "1"}),
        "material-form": ("get", f"/admin/catalog/materials/{material.id}/edit", None),
        "material-edit": ("post", f"/admin/catalog/materials/{material.id}/edit",
                          {"name": "改名", "original": "0", "copies": "2"}),
        "material-retire": ("post", f"/admin/catalog/materials/{material.id}/retire",
                            {"action": "retire"}),
        "material-move": ("post", f"/admin/catalog/materials/{material.id}/move",
                          {"direction": "up"}),
    }[name]


def _row(page: str, href: str) -> str:
    """The text of the list row linking to `href`."""
    return text_of(page, f'a.row-link[href="{href}"]')


def _box(page: str, name: str, value: int):
    """The checkbox named name for value, with the text of its label."""
    box = one(page, f'input[type=checkbox][name="{name}"][value="{value}"]')
    return box, " ".join(box.find_parent("label").get_text().split())


def test_the_list_shows_every_item_and_marks_other_halls(client, hall_admin):
    page = client.get("/admin/catalog").get_data(as_text=True)
    theirs, mine, shared = hall_admin["theirs"], hall_admin["mine"], hall_admin["shared"]
    assert "其他大厅" in _row(page, f"/admin/catalog/items/{theirs.id}")
    assert "其他大厅" not in _row(page, f"/admin/catalog/items/{mine.id}")
    assert "多馆共用" in _row(page, f"/admin/catalog/items/{shared.id}")
    assert "多馆共用" not in _row(page, f"/admin/catalog/items/{mine.id}")


def test_another_halls_item_page_is_read_only(client, hall_admin):
    theirs = hall_admin["theirs"]
    response = client.get(f"/admin/catalog/items/{theirs.id}")
    page = response.get_data(as_text=True)
    assert "本大厅不办理这个事项,只能查看" in text_of(response, "p.notice")
    assert "乙政务服务中心" in page
    assert "旧字段|文本|必填" in page  # its fields are shown, not offered for editing
    for path in ("/edit", "/retire", "/fields", "/materials"):
        assert f"/admin/catalog/items/{theirs.id}{path}" not in page
    assert "/admin/catalog/materials/" not in page
    own = client.get(f"/admin/catalog/items/{hall_admin['mine'].id}").get_data(as_text=True)
    mine = hall_admin["mine"].id
    assert {f"/admin/catalog/items/{mine}/edit", f"/admin/catalog/items/{mine}/retire"} \
        <= set(targets(own))
    assert "添加材料" in own and "只能查看" not in own


def test_a_shared_items_page_is_read_only_and_says_who_changes_it(client, hall_admin):
    shared = hall_admin["shared"]
    response = client.get(f"/admin/catalog/items/{shared.id}")
    page = response.get_data(as_text=True)
    notice = text_of(response, "p.notice")
    assert "这个事项由几个大厅共用,只能查看" in notice and "市级管理员" in notice
    assert f"/admin/catalog/items/{shared.id}/edit" not in page


@pytest.mark.parametrize("which, why", [("theirs", "其他大厅"), ("shared", "市级管理员")],
                         ids=["another hall's item", "an item their hall shares"])
@pytest.mark.parametrize("change", CHANGES)
def test_a_hall_admin_cannot_change_an_item_that_is_not_their_halls_alone(client, hall_admin,
                                                                         change, which, why):
    item = hall_admin[which]
    method, path, data = _change(change, item, hall_admin["b"])
    before = _state(item.id)
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 403
    error = text_of(response, ".error-card")
    assert "没有权限" in error and why in error
    assert _state(item.id) == before


@pytest.mark.parametrize("admin, which", [("hall_admin", "mine"), ("city_admin", "theirs"),
                                          ("city_admin", "shared")],
                         ids=["hall admin, their hall's own item", "city-wide admin, any item",
                              "city-wide admin, a shared item"])
@pytest.mark.parametrize("change", CHANGES)
def test_an_admin_changes_an_item_in_their_scope(request, client, admin, which, change):
    world = request.getfixturevalue(admin)
    item = world[which]
    method, path, data = _change(change, item, world["a" if admin == "hall_admin" else "b"])
    before = _state(item.id)
    response = getattr(client, method)(path, data=data)
    assert response.status_code == (200 if method == "get" else 303)
    assert (_state(item.id) == before) == (method == "get")


def test_a_new_item_of_a_hall_admin_is_always_their_halls(client, hall_admin):
    a, b = hall_admin["a"], hall_admin["b"]
    page = client.get("/admin/catalog/items/new").get_data(as_text=True)
    box, label = _box(page, "hall_ids", a.id)
    assert box.has_attr("checked") and box.has_attr("disabled")
    assert label.startswith("甲政务服务中心")
    assert "乙政务服务中心" not in page  # no other hall is offered
    form = _item_form(hall_admin["mine"], b, code="A-2", hall_ids="",
                      window_ids=[str(a.windows[0].id), str(b.windows[0].id)])
    response = client.post("/admin/catalog/items/new", data=form)
    assert response.status_code == 303
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "A-2"))
    assert item.halls == [a] and item.windows == [a.windows[0]]
    # a forged other hall is not added either
    form = _item_form(hall_admin["mine"], b, code="A-3")
    assert client.post("/admin/catalog/items/new", data=form).status_code == 303
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "A-3"))
    assert item.halls == [a] and item.windows == []


def test_a_form_error_keeps_the_halls_locked(client, hall_admin):
    a = hall_admin["a"]
    response = client.post("/admin/catalog/items/new",
                           data=_item_form(hall_admin["mine"], a, code="A-2", name=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请输入事项名称" in text_of(response, "#f-name-error")
    assert "请至少选择一个办理大厅" not in page
    hall, _ = _box(page, "hall_ids", a.id)
    assert hall.has_attr("checked") and hall.has_attr("disabled")
    window, _ = _box(page, "window_ids", a.windows[0].id)
    assert window.has_attr("checked") and not window.has_attr("disabled")


def test_editing_their_own_item_never_adds_another_hall(client, hall_admin):
    a, mine = hall_admin["a"], hall_admin["mine"]
    c = factories.hall(name="丙政务服务中心")
    page = client.get(f"/admin/catalog/items/{mine.id}/edit").get_data(as_text=True)
    box, label = _box(page, "hall_ids", a.id)
    assert box.has_attr("checked") and box.has_attr("disabled")
    assert label == "甲政务服务中心 (本大厅)"
    assert "乙政务服务中心" not in page and "丙政务服务中心" not in page
    # the form sends no halls (they are locked), and a forged one tries to add C and its window
    for halls in ("", str(c.id)):
        form = _item_form(mine, a, hall_ids=halls, window_ids=[str(a.windows[0].id),
                                                                str(c.windows[0].id)])
        assert client.post(f"/admin/catalog/items/{mine.id}/edit", data=form).status_code == 303
        db.session.expire_all()
        item = db.session.get(ServiceItem, mine.id)
        assert item.name == "改过的名称"
        assert item.halls == [a] and [w.id for w in item.windows] == [a.windows[0].id]


def test_a_city_wide_admin_chooses_any_halls(client, city_admin):
    a, b, shared = city_admin["a"], city_admin["b"], city_admin["shared"]
    page = client.get(f"/admin/catalog/items/{shared.id}/edit").get_data(as_text=True)
    assert "disabled" not in page
    response = client.post(f"/admin/catalog/items/{shared.id}/edit",
                           data=_item_form(shared, b))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ServiceItem, shared.id).halls == [b] != [a, b]


# 一件事

@pytest.fixture
def bundles(hall_admin):
    mine2 = factories.item(code="A-9", name="甲的第二个事项", halls=[hall_admin["a"]])
    own = factories.bundle([hall_admin["mine"], mine2], code="YJS-A", name="甲的一件事")
    mixed = factories.bundle([hall_admin["mine"], hall_admin["theirs"]], code="YJS-AB",
                             name="跨大厅的一件事")
    return hall_admin | {"mine2": mine2, "own": own, "mixed": mixed}


def _bundle_state(bundle_id: int) -> tuple:
    db.session.expire_all()
    bundle = db.session.get(Bundle, bundle_id)
    return bundle.name, bundle.retired_at, [i.id for i in bundle.items]


def test_the_bundle_list_marks_bundles_with_other_halls_items(client, bundles):
    page = client.get("/admin/catalog/bundles").get_data(as_text=True)
    mixed, own = (one(page, f"div.admin-row#bundle-{bundles[key].id}") for key in ("mixed", "own"))
    tools = {key: row.find_next_sibling("div", class_="admin-tools")  # the row's buttons
             for key, row in (("mixed", mixed), ("own", own))}
    ways = {key: [tag.get("href") or tag.get("action") for tag in box.select("a, form")]
            for key, box in tools.items()}
    assert "其他大厅" in mixed.get_text() and "其他大厅" not in own.get_text()
    assert not any(way.endswith(("/edit", "/retire")) for way in ways["mixed"])
    own_id = bundles["own"].id
    assert {f"/admin/catalog/bundles/{own_id}/edit", f"/admin/catalog/bundles/{own_id}/retire"} \
        <= set(ways["own"])


@pytest.mark.parametrize("method, path", [
    ("get", "/admin/catalog/bundles/{id}/edit"),
    ("post", "/admin/catalog/bundles/{id}/edit"),
    ("post", "/admin/catalog/bundles/{id}/retire"),
])
def test_a_hall_admin_cannot_change_a_bundle_with_another_halls_item(client, bundles, method,
                                                                     path):
    mixed = bundles["mixed"]
    before = _bundle_state(mixed.id)
    form = {"code": "YJS-AB", "name": "改名", "audience": "individual",
            "item_ids": [str(bundles["mine"].id), str(bundles["mine2"].id)]}
    response = getattr(client, method)(path.format(id=mixed.id), data=form)
    page = response.get_data(as_text=True)
    error = text_of(response, ".error-card")
    assert response.status_code == 403 and "没有权限" in error and "市级管理员" in error
    assert "手机号登录" not in page  # staff are told about their scope, not to sign in
    assert _bundle_state(mixed.id) == before


def test_the_bundle_form_offers_only_own_hall_items(client, bundles):
    response = client.get("/admin/catalog/bundles/new")
    assert "只列出本大厅单独办理的事项" in text_of(response, "#f-item_ids .hint")
    offered = [tag["value"] for tag in soup(response).select('input[name="item_ids"]')]
    for key in ("mine", "mine2"):
        assert str(bundles[key].id) in offered
    for key in ("theirs", "shared"):
        assert str(bundles[key].id) not in offered


def test_a_forged_item_in_a_bundle_is_refused_beside_the_field(client, bundles):
    form = {"code": "YJS-NEW", "name": "我要开网店", "keywords": "网店", "audience": "company",
            "item_ids": [str(bundles["mine"].id), str(bundles["theirs"].id)]}
    response = client.post("/admin/catalog/bundles/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    error = text_of(page, "#f-item_ids-error")
    assert "只能选择本大厅办理的事项" in error and "乙的事项不由本大厅办理" in error
    assert field_value(response, "name") == "我要开网店"
    assert field_value(response, "keywords") == "网店"
    mine = one(response, f'input[name="item_ids"][value="{bundles["mine"].id}"]')
    assert mine.has_attr("checked")
    assert db.session.scalar(select(Bundle).where(Bundle.code == "YJS-NEW")) is None
    own = bundles["own"]
    before = _bundle_state(own.id)
    response = client.post(f"/admin/catalog/bundles/{own.id}/edit", data=form | {
        "code": "YJS-A", "item_ids": [str(bundles["mine"].id), "99999"]})
    assert response.status_code == 400
    assert "只能选择本大厅办理的事项" in text_of(response, "#f-item_ids-error")
    assert _bundle_state(own.id) == before


def test_a_hall_admin_creates_edits_and_retires_own_bundles(client, bundles):
    mine, mine2, shared = bundles["mine"], bundles["mine2"], bundles["shared"]
    form = {"code": "YJS-NEW", "name": "我要开网店", "audience": "company",
            "item_ids": [str(mine.id), str(mine2.id)]}
    assert client.post("/admin/catalog/bundles/new", data=form).status_code == 303
    own = bundles["own"]
    response = client.post(f"/admin/catalog/bundles/{own.id}/edit", data=form | {
        "code": "YJS-A", "item_ids": [str(mine2.id), str(mine.id)]})
    assert response.status_code == 303
    assert _bundle_state(own.id)[2] == [mine2.id, mine.id]
    # a shared item would make it the city's
    response = client.post(f"/admin/catalog/bundles/{own.id}/edit", data=form | {
        "code": "YJS-A", "item_ids": [str(mine2.id), str(shared.id)]})
    assert response.status_code == 400
    assert "共同的事项由几个大厅共用" in text_of(response, "#f-item_ids-error")
    assert _bundle_state(own.id)[2] == [mine2.id, mine.id]
    assert client.post(f"/admin/catalog/bundles/{own.id}/retire").status_code == 303
    assert _bundle_state(own.id)[1] is not None


def test_a_city_wide_admin_changes_any_bundle(client, auth, bundles):
    auth.logout()
    factories.staff("city", "city-password-1", role="admin")
    auth.login_staff("city", "city-password-1")
    mixed, theirs = bundles["mixed"], bundles["theirs"]
    page = client.get("/admin/catalog/bundles/new")
    assert one(page, f'input[name="item_ids"][value="{theirs.id}"]')
    response = client.post(f"/admin/catalog/bundles/{mixed.id}/edit", data={
        "code": "YJS-AB", "name": "改名", "audience": "individual",
        "item_ids": [str(theirs.id), str(bundles["mine2"].id)]})
    assert response.status_code == 303
    assert _bundle_state(mixed.id)[:1] == ("改名",)
    assert client.post(f"/admin/catalog/bundles/{mixed.id}/retire").status_code == 303


# 导入: a hall admin's file may change only what they could change by hand

def _upload(client, text: str, name: str = "catalog.yaml"):
    return client.post("/admin/catalog/import", data={
        "file": (io.BytesIO(text.encode()), name)}, content_type="multipart/form-data")


def _catalog() -> str:
    db.session.expire_all()
    from app.catalog import io as catalog_io

    return catalog_io.export_catalog()


OVERREACH = """\
halls:
  - {name: 丙政务服务中心, short_name: 丙, address: 丙路, phone: '1', hours: 工作日}
items:
  - {code: A-1, name: 甲的事项改名, department: 测试局, topic: 户籍, halls: [甲政务服务中心]}
  - {code: B-1, name: 乙的事项改名, department: 测试局, topic: 户籍, halls: [乙政务服务中心]}
  - {code: N-1, name: 乙的新事项, department: 测试局, topic: 户籍, halls: [乙政务服务中心]}
  - {code: AB-1, name: 共同的事项, department: 测试局, topic: 户籍, halls: [甲政务服务中心]}
  - {code: A-2, name: 甲的新事项, department: 测试局, topic: 户籍,
     halls: [甲政务服务中心], windows: [乙政务服务中心/A01]}
bundles:
  - {code: YJS-X, name: 新一件事, items: [A-1, B-1]}
"""


def test_a_hall_admins_import_beyond_their_hall_is_refused_row_by_row(client, hall_admin):
    before = _catalog()
    response = _upload(client, OVERREACH)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "catalog.yaml 没有导入,共 6 处错误" in text_of(response, "#f-file-error")
    listed = texts(response, ".import-errors li")
    for message in [
        "第 2 行(大厅 丙政务服务中心):只能修改本大厅(甲政务服务中心)的信息",
        "第 5 行(事项 B-1):本大厅(甲政务服务中心)不办理这个事项,不能修改",
        "第 6 行(事项 N-1):新增的事项应由本大厅办理,请在大厅(halls)中列出 甲政务服务中心",
        "第 7 行(事项 AB-1):这个事项由几个大厅共用,只有市级管理员可以修改",
        "第 8 行(事项 A-2):只能由本大厅单独办理;要由几个大厅共同办理,请联系市级管理员",
        "第 11 行(一件事 YJS-X):含有不由本大厅单独办理的事项 B-1,不能新增或修改",
    ]:
        assert message in listed
    assert "第 4 行" not in page  # its own item is fine
    assert _catalog() == before
    assert db.session.scalar(select(Hall).where(Hall.name == "丙政务服务中心")) is None


def test_a_hall_admin_cannot_drop_their_hall_or_touch_a_mixed_bundle(client, bundles):
    before = _catalog()
    text = """\
items:
  - {code: A-9, name: 甲的第二个事项, department: 测试局, topic: 户籍, halls: [乙政务服务中心]}
bundles:
  - {code: YJS-AB, name: 改名, items: [A-1, B-1]}
"""
    listed = texts(_upload(client, text), ".import-errors li")
    assert "第 2 行(事项 A-9):不能从大厅(halls)中去掉本大厅(甲政务服务中心)" in listed
    assert "第 4 行(一件事 YJS-AB):含有不由本大厅单独办理的事项 B-1,不能新增或修改" in listed
    assert _catalog() == before


def test_a_csv_import_names_the_csv_line(client, hall_admin):
    from app.catalog import io as catalog_io

    csv_text = catalog_io.export_csv().replace("乙的事项", "乙的事项改名")
    line = next(n for n, row in enumerate(csv_text.splitlines(), 1) if "乙的事项改名" in row)
    response = _upload(client, csv_text, "catalog.csv")
    assert response.status_code == 400
    assert (f"第 {line} 行(事项 B-1):本大厅(甲政务服务中心)不办理这个事项,不能修改"
            in texts(response, ".import-errors li"))
    assert db.session.get(ServiceItem, hall_admin["theirs"].id).name == "乙的事项"


def test_an_exported_file_comes_back_with_only_own_changes(client, bundles):
    text = _catalog()
    assert "乙的事项" in text and "跨大厅的一件事" in text  # export is not limited
    edited = text.replace("name: 甲的事项\n", "name: 甲的事项(新)\n").replace(
        "name: 甲的一件事", "name: 甲的一件事(新)").replace(
        "address: 测试路 1 号", "address: 甲路 2 号", 1)  # hall A comes first
    assert edited.count("(新)") == 2
    response = _upload(client, edited)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    assert [bundles["a"].address, bundles["b"].address] == ["甲路 2 号", "测试路 1 号"]
    assert db.session.get(ServiceItem, bundles["mine"].id).name == "甲的事项(新)"
    assert db.session.get(Bundle, bundles["own"].id).name == "甲的一件事(新)"
    assert db.session.get(ServiceItem, bundles["theirs"].id).name == "乙的事项"


def test_the_transfer_page_tells_a_hall_admin_the_limit(client, hall_admin):
    page = client.get("/admin/catalog/transfer")
    assert "您管理甲政务服务中心" in text_of(page, "p.notice")


def test_a_city_wide_admin_and_the_cli_import_anything(client, city_admin, runner, tmp_path):
    page = client.get("/admin/catalog/transfer").get_data(as_text=True)
    assert "您管理" not in page
    response = _upload(client, OVERREACH)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ServiceItem, city_admin["theirs"].id).name == "乙的事项改名"
    assert db.session.scalar(select(Hall).where(Hall.name == "丙政务服务中心")) is not None
    path = tmp_path / "catalog.yaml"
    path.write_text(OVERREACH.replace("改名", "再改"), encoding="utf-8")
    assert runner.invoke(args=["catalog", "import", str(path)]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(ServiceItem, city_admin["theirs"].id).name == "乙的事项再改"
    assert db.session.scalar(select(func.count()).select_from(Material)) > 0
