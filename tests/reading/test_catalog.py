"""The catalog side of 智能预审: a document kind and an example photo per material, on the admin
pages, in import and export, on the upload card, and on the figures page."""

import io
from datetime import timedelta

import pytest
from applications.application_kit import photo
from html_kit import has, text_of
from sqlalchemy import select

import factories
from app.applications.models import Application
from app.catalog import io as catalog_io
from app.catalog.filecheck import CatalogError
from app.catalog.models import Material
from app.core.timeutil import utcnow
from app.extensions import db
from app.reading import examples
from app.reading.models import PhotoCheck
from app.uploads.storage import get_storage


@pytest.fixture
def admin(client, auth):
    hall = factories.hall(name="乌兰浩特市政务服务中心")
    factories.staff("boss", "boss-password-1", role="admin", hall_row=hall)
    auth.login_staff("boss", "boss-password-1")
    return hall


def _material_form(**overrides):
    return {"name": "居民身份证", "original": "1", "copies": "1", "photo_ok": "1",
            "document_kind": "id_card"} | overrides


def test_an_admin_gives_a_material_a_kind_and_an_example(client, admin):
    item = factories.item(halls=[admin], materials=())
    response = client.post(f"/admin/catalog/items/{item.id}/materials", data=_material_form(
        example=(io.BytesIO(photo()), "example.jpg")), content_type="multipart/form-data")
    assert response.status_code == 303
    material = db.session.scalar(select(Material))
    assert material.document_kind == "id_card"
    image = get_storage().open(material.example_key)
    assert image[:2] == b"\xff\xd8" and b"GPS" not in image  # re-encoded, without metadata
    page = client.get(f"/admin/catalog/items/{item.id}").get_data(as_text=True)
    assert "识别居民身份证" in page and "有示例图" in page
    public = client.get(f"/catalog/materials/{material.id}/example/thumb")
    assert public.status_code == 200 and public.mimetype == "image/jpeg"


def test_a_bad_example_or_kind_is_refused_beside_the_field(client, admin):
    item = factories.item(halls=[admin], materials=())
    response = client.post(f"/admin/catalog/items/{item.id}/materials", data=_material_form(
        document_kind="passport", example=(io.BytesIO(b"not a photo"), "x.jpg")),
        content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请从列表中选择证件类型" in page and "示例图:" in page
    assert db.session.scalar(select(Material)) is None


def test_an_example_is_replaced_and_removed_and_its_files_go(client, admin):
    item = factories.item(halls=[admin], materials=("居民身份证",))
    material = item.materials[0]
    url = f"/admin/catalog/materials/{material.id}/edit"
    client.post(url, data=_material_form(example=(io.BytesIO(photo()), "a.jpg")),
                content_type="multipart/form-data")
    db.session.refresh(material)
    first = [material.example_key, material.example_thumb_key]
    client.post(url, data=_material_form(example=(io.BytesIO(photo(800, 600)), "b.jpg")),
                content_type="multipart/form-data")
    db.session.refresh(material)
    assert material.example_key not in first
    assert not any(get_storage().exists(k) for k in first)
    client.post(url, data=_material_form(document_kind="", example_remove="1"),
                content_type="multipart/form-data")
    db.session.refresh(material)
    assert material.example_key is None and material.document_kind is None


def test_import_and_export_carry_the_kind_and_the_example(app):
    hall = factories.hall(name="测试大厅")
    item = factories.item(halls=[hall], materials=("居民身份证", "申请书"), code="T-1")
    item.materials[0].document_kind = "id_card"
    examples.replace(item.materials[0], photo())
    db.session.commit()
    for text, fmt in ((catalog_io.export_catalog(), "yaml"), (catalog_io.export_csv(), "csv")):
        assert "document_kind" in text and "data:image/jpeg;base64," in text
        before = item.materials[0].example_key
        catalog_io.import_catalog(text, fmt)  # the same file again changes nothing
        db.session.expire_all()
        again = db.session.scalar(select(Material).where(Material.name == "居民身份证"))
        assert again.document_kind == "id_card" and again.example_key == before
        assert db.session.scalar(select(Material).where(Material.name == "申请书")
                                 ).document_kind is None
    elsewhere = catalog_io.export_catalog().replace("居民身份证", "居民身份证(新)")
    catalog_io.import_catalog(elsewhere)
    new = db.session.scalar(select(Material).where(Material.name == "居民身份证(新)"))
    assert new.document_kind == "id_card" and new.example_key  # stored anew for a new material


def test_a_bad_kind_or_example_in_a_file_is_named(app):
    text = """items:
  - code: T-2
    name: 测试
    department: 测试局
    topic: 户籍
    materials:
      - {name: 身份证, document_kind: passport}
      - {name: 执照, example_photo: "data:image/jpeg;base64,bm90IGEgcGhvdG8="}
"""
    with pytest.raises(CatalogError) as err:
        catalog_io.import_catalog(text)
    assert any("证件识别(document_kind) 只能是" in e for e in err.value.errors)
    assert any("示例图:" in e for e in err.value.errors)


def test_the_upload_card_shows_the_example_small_and_large_on_tap(client, auth):
    hall = factories.hall()
    item = factories.item(halls=[hall], materials=("居民身份证",), code="T-3")
    item.materials[0].document_kind = "id_card"
    examples.replace(item.materials[0], photo())
    db.session.commit()
    auth.login_citizen()
    client.post("/apply/T-3")
    row = db.session.scalar(select(Application))
    client.post(f"/applications/{row.id}/consent", data={"agree": "1"})  # before any photo
    page = client.get(f"/applications/{row.id}/materials").get_data(as_text=True)
    assert text_of(page, "details.app-example summary") == "看示例:这样拍"
    assert has(page, "details.app-example summary img")
    assert has(page, "details.app-example img.app-example-large")
    assert row.materials[0].document_kind == "id_card"


def test_the_figures_page_counts_hints_that_agreed(client, admin, auth):
    checks = [PhotoCheck(upload_id=n, hall_id=admin.id, hint=hint, verdict=verdict,
                         decided_at=utcnow() - timedelta(hours=1), status="done")
              for n, (hint, verdict) in enumerate([("fix", "fix"), ("ok", "ok"), ("ok", "fix")],
                                                  1)]
    _uploads(admin, len(checks))
    db.session.add_all(checks)
    db.session.commit()
    page = client.get("/ratings/dashboard").get_data(as_text=True)
    assert "提示与审核结论一致" in page
    assert "66.7%" in page and "2/3 张照片" in page
    assert "窗口也判需补正 1" in page and "窗口也判合格 1" in page


def _uploads(hall, count):
    """Upload rows for the checks to belong to (the figures never look at them)."""
    from app.applications.models import AppMaterial, Upload

    citizen = factories.citizen()
    row = Application(citizen_id=citizen.id, hall_id=hall.id, title="测试")
    material = AppMaterial(name="居民身份证")
    row.materials.append(material)
    db.session.add(row)
    db.session.flush()
    for n in range(1, count + 1):
        db.session.add(Upload(id=n, material=material, citizen_id=citizen.id))
    db.session.flush()
