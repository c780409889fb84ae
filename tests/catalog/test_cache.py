"""The in-process catalog copy: edits show at once here and after the revision check elsewhere;
views are written in batches."""

from sqlalchemy import select, text

import factories
from app.catalog import cache
from app.catalog.models import CatalogRevision, ServiceItem
from app.extensions import db


def test_an_orm_edit_bumps_the_revision_and_refreshes_this_worker(client):
    item = factories.item(name="旧名称")
    before = db.session.scalar(select(CatalogRevision.version))
    assert "旧名称" in client.get("/services").get_data(as_text=True)
    item.name = "新名称"
    db.session.commit()
    assert db.session.scalar(select(CatalogRevision.version)) == before + 1
    page = client.get("/services").get_data(as_text=True)
    assert "新名称" in page and "旧名称" not in page


def test_another_workers_edit_shows_after_the_revision_check(app, client):
    factories.item(code="X-1", name="旧名称")
    assert "旧名称" in client.get("/services").get_data(as_text=True)
    # Another process changes the catalog: this worker hears of it only through the counter.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE service_item SET name = '新名称' WHERE code = 'X-1'"))
    app.config["CATALOG_CACHE_SECONDS"] = 3600
    try:
        with db.engine.begin() as conn:
            conn.execute(cache.BUMP)
        assert "旧名称" in client.get("/services").get_data(as_text=True)  # within the TTL
    finally:
        app.config["CATALOG_CACHE_SECONDS"] = 0
    assert "新名称" in client.get("/services").get_data(as_text=True)


def test_reads_do_not_bump_the_revision(client):
    item = factories.item()
    before = db.session.scalar(select(CatalogRevision.version))
    client.get(f"/services/{item.code}")
    client.get("/services?q=测试")
    assert db.session.scalar(select(CatalogRevision.version)) == before


def test_views_are_written_in_batches(app, client):
    item = factories.item()
    app.config["VIEW_FLUSH_SECONDS"] = 3600
    try:
        for _ in range(3):  # the guide page, then the view it reports once shown
            client.get(f"/services/{item.code}")
            client.get(f"/services/{item.code}/seen")
        db.session.expire_all()
        assert db.session.get(ServiceItem, item.id).views == 0
        cache.flush_views()
    finally:
        app.config["VIEW_FLUSH_SECONDS"] = 0
    db.session.expire_all()
    assert db.session.get(ServiceItem, item.id).views == 3


def test_cached_rows_render_after_the_request_session_is_gone(client):
    hall = factories.hall()
    item = factories.item(halls=[hall])
    factories.bundle([item, factories.item()], code="B-X")
    for _ in range(2):  # the second request renders the same detached rows again
        assert client.get(f"/services/{item.code}").status_code == 200
        assert client.get("/bundles/B-X/checklist").status_code == 200


def test_cached_rows_cannot_be_put_into_a_session(client):
    import pytest

    from app.catalog.services import cached_item

    item = factories.item(code="X-2")
    cached = cached_item("X-2")
    assert cached is not None and cached is not db.session.get(ServiceItem, item.id)
    with pytest.raises(RuntimeError, match="read-only"):
        db.session.add(cached)
    db.session.rollback()
