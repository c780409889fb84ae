"""一号查询 for people not signed in: 我要查 and the 进度 tab offer signing in or looking one
matter up by its number; the sign-in page offers the lookup when reached from progress."""

import pytest
from bs4 import BeautifulSoup
from conftest import shanghai
from html_kit import field_value, has, text_of

pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=False)


def _follow(client, path):
    response = client.get(path)
    while response.status_code in (301, 302, 303):
        path = response.headers["Location"]
        response = client.get(path)
    return path, response


@pytest.mark.parametrize("start", ["/progress", "/progress/mine"])  # 我要查, the 进度 tab
def test_signed_out_chooses_between_sign_in_and_lookup(client, start):
    path, response = _follow(client, start)
    assert path == "/progress/find" and response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    buttons = soup.select("#progress-choose .choice-big a.button")
    labels = [b.get_text(strip=True) for b in buttons]
    assert labels == ["登录查看我的办件", "按办件编号/预约号查询"]
    assert buttons[0]["href"] == "/login?next=/progress/mine"
    assert buttons[1]["href"] == "/progress/lookup"


def test_signed_in_goes_straight_to_my_matters(client, auth):
    auth.login_citizen()
    assert _follow(client, "/progress")[0] == "/progress/mine"
    assert client.get("/progress/find").headers["Location"] == "/progress/mine"


def test_sign_in_offers_the_lookup_only_from_progress(client):
    page = client.get("/login?next=/progress/mine").get_data(as_text=True)
    assert "按办件编号/预约号查询" in text_of(page, "#lookup-offer")
    assert not has(client.get("/login?next=/me"), "#lookup-offer")


def test_care_mode_home_has_the_lookup(client):
    client.set_cookie("care", "1")
    soup = BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")
    form = soup.select_one("#care-lookup form")
    assert form["action"] == "/progress/lookup" and form["method"] == "get"  # no token on home
    assert soup.select_one("#care-lookup input[name=number]") is not None
    client.set_cookie("care", "0")
    assert not has(client.get("/"), "#care-lookup")


def test_number_from_the_home_page_is_filled_in(client):
    page = client.get("/progress/lookup?number=YS2611230001").get_data(as_text=True)
    assert field_value(page, "number") == "YS2611230001"
