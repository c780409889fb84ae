"""Guide pages of items and bundles, the merged checklist, the printable page and its QR code."""

import re

import segno
from html_kit import button, has, hrefs, link, soup, text_of, texts

import factories
from app.catalog.models import Material
from app.core.timeutil import utcnow
from app.extensions import db


def _restaurant():
    licence = factories.item(code="SC-002", name="企业设立登记", department="市场监督管理局",
                             materials=("公司章程", "营业执照"))
    food = factories.item(code="SC-003", name="食品经营许可", department="市场监督管理局",
                          materials=("食品经营许可申请书", "营业执照", "法定代表人身份证"))
    fire = factories.item(code="XF-001", name="消防安全检查", department="消防救援支队",
                          materials=("消防安全检查申报表", "营业执照 ", "法定代表人身份证"))
    return factories.bundle([licence, food, fire], code="YJS-KFD", name="我要开饭店")


def test_guide_page_tells_materials_first_then_steps_places_and_actions(client):
    hall = factories.hall(name="乌兰浩特市政务服务中心")
    item = factories.item(name="新生儿出生登记", halls=[hall], steps=["网上预约", "窗口核验"],
                          legal_days=20, promised_days=1, phone="0482-8266110",
                          legal_basis="《户口登记条例》")
    item.materials[1].may_be_missing = True
    item.materials[0].notes = "须为原件"
    db.session.commit()
    page = client.get(f"/services/{item.code}").get_data(as_text=True)
    order = ["需要带的材料", "居民身份证", "须为原件", "可容缺", "办理流程", "网上预约",
             "时限与地点", "法定时限", "乌兰浩特市政务服务中心", "测试路 1 号", "《户口登记条例》",
             'href="tel:0482-8266110"']
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)
    assert f"/services/{item.code}/checklist" in hrefs(page)


def test_actions_only_link_to_pages_that_open(client):
    item = factories.item(bookable=True, prereview=True)
    response = client.get(f"/services/{item.code}")
    book = link(response, "预约到大厅办理")
    assert client.get(book["href"]).status_code == 200
    assert ("/bundles/" not in response.get_data(as_text=True))


def test_unknown_item_and_bundle_are_404(client):
    assert client.get("/services/NOPE").status_code == 404
    assert client.get("/services/NOPE/checklist").status_code == 404
    assert client.get("/bundles/NOPE").status_code == 404
    assert client.get("/bundles/NOPE/checklist").status_code == 404


def test_retired_item_guide_still_opens_for_old_applications(client):
    item = factories.item(name="旧事项", retired_at=utcnow())
    page = client.get(f"/services/{item.code}").get_data(as_text=True)
    assert "已停止办理" in page and "预约到大厅办理" not in page
    assert client.get(f"/services/{item.code}/seen").status_code == 204
    assert client.get_cookie("recent") is None


def test_bundle_page_merges_materials_and_names_departments(client):
    bundle = _restaurant()
    page = client.get(f"/bundles/{bundle.code}").get_data(as_text=True)
    names = texts(page, "#materials ol.materials > li > p.row-title")
    assert names.count("营业执照") == 1 and names.count("法定代表人身份证") == 1
    assert len(names) == 5 and "已合并 5 项" in text_of(page, "#materials h2")
    assert "用于:企业设立登记、食品经营许可、消防安全检查" in texts(page, "#materials .row-meta")
    departments = texts(page, 'section:has(> h2:-soup-contains("参与部门")) .chip')
    assert departments.count("市场监督管理局") == 1 and "消防救援支队" in departments
    for code in ("SC-002", "SC-003", "XF-001"):
        assert f"/services/{code}" in hrefs(page)


def test_merged_material_keeps_the_strictest_form(client):
    a = factories.item(name="甲", materials=("营业执照",))
    b = factories.item(name="乙", materials=("营业执照",))
    a.materials[0].original, a.materials[0].copies, a.materials[0].may_be_missing = False, 1, True
    b.materials[0].original, b.materials[0].copies, b.materials[0].photo_ok = True, 2, False
    db.session.commit()
    bundle = factories.bundle([a, b])
    page = client.get(f"/bundles/{bundle.code}").get_data(as_text=True)
    assert "原件 2 份" in page and "需现场提交" in page and "可容缺" not in page


def test_bundle_leaves_out_retired_items_and_materials(client):
    bundle = _restaurant()
    fire = bundle.items[2]
    fire.retired_at = utcnow()
    food = bundle.items[1]
    food.materials[0].retired_at = utcnow()
    db.session.commit()
    page = client.get(f"/bundles/{bundle.code}").get_data(as_text=True)
    assert "消防安全检查申报表" not in page and "消防救援支队" not in page
    assert "食品经营许可申请书" not in page and "已合并 3 项" in page


def test_bundle_actions_link_to_bundle_pages_that_open(client):
    bundle = _restaurant()
    response = client.get(f"/bundles/{bundle.code}")
    assert client.get(link(response, "预约到大厅一次办理")["href"]).status_code == 200
    photos = client.get(link(response, "拍照预审")["href"])
    assert photos.status_code == 302 and photos.location.startswith("/login")  # sign in first


def test_item_guide_links_to_its_bundles(client):
    bundle = _restaurant()
    page = client.get(f"/services/{bundle.items[0].code}").get_data(as_text=True)
    assert "一件事一次办" in page and f"/bundles/{bundle.code}" in hrefs(page)


def _qr_url(page: str, expected: str) -> None:
    """The inline SVG draws exactly the modules of a QR code of `expected`."""
    svg = re.search(r"<svg[^>]*class=\"qr\".*?</svg>", page, re.S).group(0)
    reference = segno.make(expected, error="m", micro=False)
    assert svg == reference.svg_inline(scale=4, border=2, title="扫码打开办事指南",
                                       svgclass="qr", lineclass=None, omitsize=False)
    # Decode the drawn path back into a module matrix and compare it to the reference.
    path = re.search(r' d="([^"]+)"', svg).group(1)
    size = reference.symbol_size(scale=1, border=2)[0]
    drawn = [[0] * size for _ in range(size)]
    x = y = 0.0
    for op, num, rest in re.findall(r"([Mmhv])(-?\d+(?:\.\d+)?)(?: (-?\d+(?:\.\d+)?))?", path):
        n = float(num)
        if op == "M":
            x, y = n, float(rest)
        elif op == "m":
            x, y = x + n, y + float(rest)
        elif op == "h":
            for col in range(int(x), int(x + n)):
                drawn[int(y)][col] = 1
            x += n
    matrix = [[1 if v else 0 for v in row] for row in reference.matrix_iter(scale=1, border=2)]
    assert drawn == matrix


def test_item_checklist_is_printable_with_a_qr_code_of_the_guide(client):
    item = factories.item(name="新生儿出生登记", materials=("出生医学证明", "户口簿"))
    response = client.get(f"/services/{item.code}/checklist")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "一次性告知单" in text_of(response, "h1")
    names = texts(response, ".row-title")
    assert "出生医学证明" in names and "户口簿" in names
    assert "共 2 项" in " ".join(texts(response, ".checklist-title"))
    assert button(response, "打印告知单").has_attr("data-print")
    scripts = [s.get("src", "").split("?")[0] for s in soup(response).find_all("script")]
    assert "/static/js/catalog.js" in scripts
    assert not has(page, "img") and not has(page, "script:not([src])")
    _qr_url(page, f"http://localhost/services/{item.code}")


def test_bundle_checklist_merges_and_its_qr_opens_the_bundle_guide(client):
    bundle = _restaurant()
    response = client.get(f"/bundles/{bundle.code}/checklist")
    page = response.get_data(as_text=True)
    assert "我要开饭店" in page and "共 5 项" in " ".join(texts(response, ".checklist-title"))
    assert texts(response, ".row-title").count("营业执照") == 1
    assert "参与部门:市场监督管理局、消防救援支队" in texts(response, "p.muted")
    _qr_url(page, f"http://localhost/bundles/{bundle.code}")


def test_materials_are_listed_in_their_set_order(client):
    item = factories.item(materials=())
    item.materials.extend([Material(name="乙材料", position=1),
                           Material(name="甲材料", position=0)])
    db.session.commit()
    page = client.get(f"/services/{item.code}").get_data(as_text=True)
    assert page.index("甲材料") < page.index("乙材料")
