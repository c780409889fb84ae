"""我的办件: every matter of the signed-in citizen, newest first, each with its status."""

from datetime import timedelta

from html_kit import hrefs, one, text_of, texts

import factories
from app.core.timeutil import utcnow


def test_mine_signed_out_offers_sign_in_or_lookup(client):
    response = client.get("/progress/mine")
    assert response.status_code == 302 and response.headers["Location"] == "/progress/find"


def test_core_progress_redirects_to_mine(client, auth):
    auth.login_citizen("13800138000")
    response = client.get("/progress")
    assert response.status_code == 302 and response.headers["Location"].endswith("/progress/mine")


def test_lists_own_matters_newest_first_with_badges(client, auth, matters):
    me, other = factories.citizen("13800138000"), factories.citizen("13900139000")
    old = matters.add(me, created_at=utcnow() - timedelta(days=9), status=("已办结", "success"))
    new = matters.add(me, created_at=utcnow() - timedelta(hours=2), status=("需补正", "warning"))
    theirs = matters.add(other)
    auth.login_citizen("13800138000")
    page = client.get("/progress/mine").get_data(as_text=True)
    assert page.index(new.number) < page.index(old.number)
    assert theirs.number not in page
    assert "需补正" in texts(page, ".badge.badge-warning")
    assert "已办结" in texts(page, ".badge.badge-success")
    assert f"/progress/testcase/{new.id}" in hrefs(page)
    assert text_of(page, '[aria-current="page"]') == "进度"


def test_empty_state_points_to_the_catalog(client, auth, matters):
    auth.login_citizen()
    page = client.get("/progress/mine")
    assert "您还没有办件或预约" in page.get_data(as_text=True) and "/services" in hrefs(page)


def test_tab_bar_goes_to_mine(client):
    assert one(client.get("/"), 'nav.tabbar a:-soup-contains("进度")')["href"] == "/progress/mine"
