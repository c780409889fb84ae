"""Public catalog pages rendered once and shared by anonymous visitors (app/catalog/pagecache.py):
each visitor still gets their own CSRF token, their own care mode and recently viewed list, their
flashed messages, and a signed-in person never gets a shared page."""

import re

import pytest

import factories
from app.catalog import cache
from app.catalog.pagecache import MARK, PAGES
from app.extensions import db

TOKEN_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')


@pytest.fixture(autouse=True)
def _ranked_once(app):
    """Tests re-rank the catalog on every request (which starts the pages over): not here."""
    app.config["POPULAR_REFRESH_SECONDS"] = 3600
    yield
    app.config["POPULAR_REFRESH_SECONDS"] = 0


def _token(page: str) -> str:
    return TOKEN_RE.search(page).group(1)


def _shared_pages() -> list:
    snap = cache._state().snapshot
    return list(snap.fragments.get(PAGES, {})) if snap else []


def test_two_visitors_share_the_page_but_each_gets_a_token_that_works_only_for_them(app):
    item = factories.item(name="食品经营许可")
    one, two = app.test_client(), app.test_client()
    first = one.get(f"/services/{item.code}").get_data(as_text=True)
    assert len(_shared_pages()) == 1
    second = two.get(f"/services/{item.code}").get_data(as_text=True)
    assert len(_shared_pages()) == 1  # the second visitor was served the stored page
    assert MARK not in first and MARK not in second
    assert _token(first) != _token(second)
    assert first.replace(_token(first), "") == second.replace(_token(second), "")
    # Each token is the visitor's own: it passes for them and fails for the other one.
    assert one.post("/care", data={"csrf_token": _token(first), "next": "/"}).status_code == 303
    assert two.post("/care", data={"csrf_token": _token(first), "next": "/"}).status_code == 400
    assert two.post("/care", data={"csrf_token": _token(second), "next": "/"}).status_code == 303


def test_care_mode_and_plain_pages_are_kept_apart(app):
    item = factories.item()
    plain, care = app.test_client(), app.test_client()
    care.set_cookie("care", "1")
    for _ in range(2):  # whichever is stored first, each gets its own
        assert 'class="care"' not in plain.get(f"/services/{item.code}").get_data(as_text=True)
        assert 'class="care"' in care.get(f"/services/{item.code}").get_data(as_text=True)
        assert 'class="care"' in care.get("/").get_data(as_text=True)
        assert 'class="care"' not in plain.get("/").get_data(as_text=True)


def test_home_shows_each_visitor_their_own_recently_viewed(app):
    seen = factories.item(code="SC-101", name="只有甲看过的事项")
    factories.item(code="SC-102", name="另一个事项")
    one, two = app.test_client(), app.test_client()
    two.get("/")  # a shared home page without a recently viewed list exists first
    one.get(f"/services/{seen.code}")
    assert "最近浏览" in one.get("/").get_data(as_text=True)
    page = two.get("/").get_data(as_text=True)
    assert "最近浏览" not in page


def test_search_pages_differ_by_query(client):
    factories.item(name="食品经营许可", keywords="饭店")
    factories.item(name="出生登记", keywords="新生儿")
    assert "食品经营许可" in client.get("/services?q=饭店").get_data(as_text=True)
    page = client.get("/services?q=新生儿").get_data(as_text=True)
    assert "出生登记" in page and "食品经营许可" not in page


def test_flashed_messages_are_shown_and_such_pages_are_not_shared(client):
    item = factories.item()
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "请先登录")]
    assert "请先登录" in client.get(f"/services/{item.code}").get_data(as_text=True)
    assert _shared_pages() == []
    assert "请先登录" not in client.get(f"/services/{item.code}").get_data(as_text=True)


def test_a_signed_in_person_never_gets_a_shared_page(client, auth):
    item = factories.item()
    auth.login_citizen()
    for url in ("/", f"/services/{item.code}", "/services?q=测试"):
        assert client.get(url).status_code == 200
    assert _shared_pages() == []
    client.delete_cookie("remember_token")  # signed in by the session alone
    for url in ("/", f"/services/{item.code}", "/services?q=测试"):
        assert client.get(url).status_code == 200
    assert _shared_pages() == []


def test_an_edit_shows_at_once_in_a_shared_page(client):
    item = factories.item(name="旧名称")
    assert "旧名称" in client.get(f"/services/{item.code}").get_data(as_text=True)
    item.name = "新名称"
    db.session.commit()
    page = client.get(f"/services/{item.code}").get_data(as_text=True)
    assert "新名称" in page and "旧名称" not in page


def test_stored_pages_are_capped(client, monkeypatch):
    from app.catalog import pagecache

    monkeypatch.setattr(pagecache, "MAX_PAGES", 2)
    factories.item()
    for n in range(5):
        assert client.get(f"/services?q=词{n}").status_code == 200
        assert 1 <= len(_shared_pages()) <= 2
