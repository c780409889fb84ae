"""Public catalog pages as HTTP resources (app/catalog/httpcache.py): the same page for every
anonymous visitor, with no token and no cookie, an ETag and Cache-Control that let nginx keep it
a few seconds and phones revalidate with a 304; each visitor still gets their own care mode and
recently viewed list, their flashed messages, and a signed-in person's pages are stored by no
one."""

from contextlib import contextmanager

import pytest
from bs4 import BeautifulSoup
from flask import template_rendered
from html_kit import has
from sqlalchemy import select

import factories
from app.catalog.models import ServiceItem
from app.extensions import db


@pytest.fixture(autouse=True, params=[False, True], ids=["rendered", "reused"])
def _reuse(app, request):
    """Every test here twice: each page rendered for each request (as under test), and each
    worker keeping a shared page's HTML under its ETag (PUBLIC_PAGE_REUSE, as deployed)."""
    app.config["PUBLIC_PAGE_REUSE"] = request.param
    yield request.param
    app.config["PUBLIC_PAGE_REUSE"] = False


@pytest.fixture(autouse=True)
def _ranked_once(app):
    """Tests re-rank the catalog on every request: here the ranking holds still, as it does
    between re-rankings in production."""
    app.config["POPULAR_REFRESH_SECONDS"] = 3600
    yield
    app.config["POPULAR_REFRESH_SECONDS"] = 0


@pytest.fixture
def pages():
    item = factories.item(code="SC-201", name="食品经营许可", keywords="饭店")
    factories.bundle([item], name="开饭店一件事", code="B-FOOD")
    return ["/", f"/services/{item.code}", "/services?q=饭店", "/services", "/bundles/B-FOOD"]


def _tokens(page: str) -> list:
    soup = BeautifulSoup(page, "html.parser")
    return (soup.find_all("input", attrs={"name": "csrf_token"})
            + soup.find_all(attrs={"hx-headers": True}))


def test_anonymous_pages_are_public_with_an_etag_and_no_token_or_cookie(client, pages, app):
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("ETag"), url
        cache_control = response.cache_control
        assert cache_control.public and cache_control.max_age == 0, url
        assert cache_control.s_maxage == app.config["PUBLIC_PAGE_SECONDS"] == 5, url
        assert not cache_control.no_store and not cache_control.private, url
        assert {"Cookie", "HX-Request"} <= set(response.vary), url
        assert "Set-Cookie" not in response.headers, url
        assert _tokens(response.get_data(as_text=True)) == [], url
        assert [f for f in BeautifulSoup(response.get_data(as_text=True), "html.parser")
                .find_all("form") if (f.get("method") or "get").lower() != "get"] == [], url
    assert client.get_cookie("session") is None


def test_live_search_fragment_is_public_too(client, pages):
    response = client.get("/services?q=饭店", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.cache_control.public
    assert response.headers["ETag"] != client.get("/services?q=饭店").headers["ETag"]
    assert "Set-Cookie" not in response.headers


def test_a_phone_with_the_page_gets_a_304(client, pages):
    for url in pages:
        tag = client.get(url).headers["ETag"]
        again = client.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 304, url
        assert again.get_data() == b"" and again.headers["ETag"] == tag
        assert again.cache_control.public
        assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
        # nginx's gzip turns the ETag weak; the phone sends it back so
        assert client.get(url, headers={"If-None-Match": f"W/{tag}"}).status_code == 304


def test_a_catalog_edit_changes_the_etag_and_shows_at_once(client):
    item = factories.item(name="旧名称")
    first = client.get(f"/services/{item.code}")
    assert "旧名称" in first.get_data(as_text=True)
    row = db.session.get(ServiceItem, item.id)
    row.name = "新名称"
    db.session.commit()
    second = client.get(f"/services/{item.code}", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]
    page = second.get_data(as_text=True)
    assert "新名称" in page and "旧名称" not in page


def test_care_mode_and_plain_pages_are_kept_apart(app):
    item = factories.item()
    plain, care = app.test_client(), app.test_client()
    care.set_cookie("care", "1")
    for _ in range(2):
        assert not has(plain.get(f"/services/{item.code}"), "html.care")
        assert has(care.get(f"/services/{item.code}"), "html.care")
        assert has(care.get("/"), "html.care")
        assert not has(plain.get("/"), "html.care")
    assert (plain.get("/").headers["ETag"] != care.get("/").headers["ETag"])


def test_home_shows_each_visitor_their_own_recently_viewed(app):
    seen = factories.item(code="SC-101", name="只有甲看过的事项")
    factories.item(code="SC-102", name="另一个事项")
    one, two = app.test_client(), app.test_client()
    before = two.get("/")
    one.get(f"/services/{seen.code}/seen")  # what the guide page sends once shown
    mine = one.get("/", headers={"If-None-Match": before.headers["ETag"]})
    assert mine.status_code == 200 and "最近浏览" in mine.get_data(as_text=True)
    assert "最近浏览" not in two.get("/").get_data(as_text=True)


def test_the_guide_page_reports_its_view_once_shown(client):
    item = factories.item(name="看过的事项")
    page = BeautifulSoup(client.get(f"/services/{item.code}").get_data(as_text=True),
                         "html.parser")
    beacon = page.find(attrs={"hx-get": f"/services/{item.code}/seen"})
    assert beacon is not None and beacon["hx-trigger"] == "load" and beacon.has_attr("hidden")
    seen = client.get(beacon["hx-get"])
    assert seen.status_code == 204 and seen.cache_control.no_store
    assert client.get_cookie("recent").value == f"i:{item.code}"


def test_search_pages_differ_by_query(client):
    factories.item(name="食品经营许可", keywords="饭店")
    factories.item(name="出生登记", keywords="新生儿")
    first = client.get("/services?q=饭店")
    assert "食品经营许可" in first.get_data(as_text=True)
    second = client.get("/services?q=新生儿", headers={"If-None-Match": first.headers["ETag"]})
    page = second.get_data(as_text=True)
    assert "出生登记" in page and "食品经营许可" not in page


def test_flashed_messages_are_shown_and_such_pages_are_not_public(client):
    item = factories.item()
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "请先登录")]
    response = client.get(f"/services/{item.code}")
    assert "请先登录" in response.get_data(as_text=True)
    assert not response.cache_control.public and "ETag" not in response.headers
    again = client.get(f"/services/{item.code}")
    assert "请先登录" not in again.get_data(as_text=True) and again.cache_control.public


@pytest.mark.parametrize("remember", [True, False])
def test_a_signed_in_persons_pages_are_stored_by_no_one(client, auth, pages, remember):
    auth.login_citizen()
    if not remember:
        client.delete_cookie("remember_token")  # signed in by the session alone
    for url in [*pages, "/me", "/progress/mine"]:
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = response.cache_control
        assert cache_control.private and cache_control.no_store, url
        assert not cache_control.public and cache_control.s_maxage is None, url
        assert "ETag" not in response.headers, url


def test_the_care_switch_has_a_page_of_its_own(client):
    home = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    link = home.select_one("a.care-btn")
    assert link is not None and link["href"] == "/care?next=/"
    page = client.get(link["href"])
    assert page.status_code == 200 and "Set-Cookie" in page.headers  # its form has a token
    form = BeautifulSoup(page.get_data(as_text=True), "html.parser").find(
        "form", action="/care")
    assert form["method"] == "post" and form.find("input", attrs={"name": "csrf_token"})
    assert form.find("input", attrs={"name": "next"})["value"] == "/"
    switched = client.post("/care", data={"next": "/"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/"
    assert has(client.get("/"), "html.care")


def test_the_care_page_refuses_an_offsite_next(client):
    page = client.get("/care?next=//evil.example").get_data(as_text=True)
    form = BeautifulSoup(page, "html.parser").find("form", action="/care")
    assert form.find("input", attrs={"name": "next"})["value"] == "/"


def test_a_worker_renders_a_shared_page_once_per_etag(app, client, pages, _reuse):
    """With PUBLIC_PAGE_REUSE, the second visitor's page is the first's HTML, not rendered
    again; a catalog edit makes a new ETag and a new page at once."""
    for url in pages:
        first = client.get(url)
        with _templates_rendered(app) as rendered:
            again = app.test_client().get(url)
        assert again.get_data() == first.get_data(), url
        assert again.headers["ETag"] == first.headers["ETag"], url
        assert (rendered == []) is _reuse, (url, rendered)
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "SC-201"))
    item.name = "食品经营许可(新)"
    db.session.commit()
    fresh = client.get("/services/SC-201")
    assert "食品经营许可(新)" in fresh.get_data(as_text=True)
    assert "食品经营许可(新)" in client.get("/").get_data(as_text=True)


@contextmanager
def _templates_rendered(app):
    names = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(record, app)
