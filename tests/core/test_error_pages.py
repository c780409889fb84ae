"""The 500 and 503 pages need neither the database nor Redis, and a lost database is a 503."""

import os
import socket

import pytest
from bs4 import BeautifulSoup
from conftest import TOKEN_RE
from html_kit import attrs, is_fragment, text_of
from sqlalchemy import text

from app.extensions import db
from app.factory import create_app

BUSY = "系统繁忙,请稍后再试"


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: nothing listens there


@pytest.fixture(scope="module")
def down():
    """The app with PostgreSQL unreachable and a Redis that is not there either."""
    app = create_app({
        "TESTING": False, "PROPAGATE_EXCEPTIONS": False, "SECRET_KEY": "x",
        "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://nobody@127.0.0.1:{_dead_port()}/x",
        "REDIS_URL": f"redis://127.0.0.1:{_dead_port()}/0"})

    @app.get("/_test/bug")
    def bug():
        raise RuntimeError("a bug, not an outage")

    return app


@pytest.fixture
def signed_in(down):
    client = down.test_client()
    with client.session_transaction() as session:  # a staff member's session, user not loadable
        session["_user_id"], session["_fresh"] = "1." + "s" * 43, True
    return client


@pytest.mark.parametrize("path", ["/", "/halls", "/me", "/staff", "/progress/mine", "/nowhere"])
def test_a_lost_database_gives_the_chinese_503_page(signed_in, path):
    response = signed_in.get(path)
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert response.status_code == 503 and response.headers["Retry-After"] == "10"
    assert page.title.string.startswith("系统繁忙") and BUSY in page.get_text()
    assert page.select_one("nav.tabbar") is not None  # the normal page shell, no user needed


def test_htmx_gets_the_503_fragment(signed_in):
    response = signed_in.get("/halls", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and is_fragment(html)
    assert BUSY in text_of(html, "#error-503")
    assert "HX-Request" in response.headers["Vary"]


def test_a_submit_during_the_outage_gets_the_503_page(down):
    client = down.test_client()
    token = TOKEN_RE.search(client.get("/care").get_data(as_text=True)).group(1)
    response = client.post("/login/code", data={"phone": "13800138000"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 503 and BUSY in response.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_bug_gets_the_500_page_without_the_database(signed_in, htmx):
    response = signed_in.get("/_test/bug", headers={"HX-Request": "true"} if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "系统出了点问题" in text_of(html, "#error-500")
    assert is_fragment(html) is htmx and attrs(html, "#error-500")["role"] == "alert"


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="kills PostgreSQL backends")
def test_killed_database_connections_cost_the_503_page_then_pages_work(app, client):
    """PostgreSQL drops the pooled connections (a restart): the request that meets one gets the
    Chinese 503 page, the ones after it succeed."""
    db.session.close()
    try:
        with db.engine.connect() as killer:
            pooled = [db.engine.connect() for _ in range(2)]  # used just now, then pooled
            for conn in pooled:
                conn.execute(text("SELECT 1"))
            for conn in pooled:
                conn.close()
            killed = killer.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'idle'")).scalar()
        assert killed >= 2
        responses = [client.get("/halls") for _ in range(4)]
    finally:
        db.engine.dispose()
    codes = [r.status_code for r in responses]
    assert codes[0] == 503 and codes[1:] == [200, 200, 200], codes
    assert BUSY in responses[0].get_data(as_text=True)
