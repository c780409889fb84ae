"""Every ratings page: a title, a back link, unique ids, nothing inline that the CSP refuses."""

from bs4 import BeautifulSoup

from app.extensions import db
from app.ratings.models import Rating, Rectification


def _check(page: str, path: str) -> None:
    soup = BeautifulSoup(page, "html.parser")
    assert soup.title and soup.title.get_text().strip(), path
    assert soup.select_one(".topbar .back"), path
    ids = [t["id"] for t in soup.select("[id]")]
    assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))
    assert not soup.select("[style]") and not soup.select("style"), path
    assert not soup.select("script:not([src])"), path
    assert not [t for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)], path


def test_citizen_pages(world, citizen_client):
    invite = world.invite()
    other = world.invite()
    world.rate(citizen_client, invite, 1, reason="slow")
    rating = db.session.query(Rating).one()
    for path in [f"/ratings/{other.id}", f"/ratings/{other.id}/details?score=2",
                 f"/ratings/{other.id}/details?score=5", f"/ratings/r/{rating.id}/thanks",
                 f"/ratings/r/{rating.id}", "/ratings/mine",
                 f"/ratings/window/{world.other_hall.windows[0].id}",
                 f"/halls/{world.hall.id}/ratings"]:
        response = citizen_client.get(path)
        assert response.status_code == 200, path
        _check(response.get_data(as_text=True), path)


def test_staff_pages(world, citizen_client, client, auth):
    world.rate(citizen_client, world.invite(), 2, reason="attitude")
    case = db.session.query(Rectification).one()
    auth.login_staff("admin1", "secret-pass-2")
    for path in ["/ratings/cases", "/ratings/cases?show=all", f"/ratings/cases/{case.id}",
                 "/ratings/staff/mine", "/ratings/dashboard",
                 f"/ratings/window/{world.window.id}/qr"]:
        response = client.get(path)
        assert response.status_code == 200, path
        _check(response.get_data(as_text=True), path)


def test_pages_need_the_right_person(world, client, auth):
    for path in ["/ratings/mine", "/ratings/cases", "/ratings/dashboard"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login_citizen("13900139000")
    for path in ["/ratings/cases", "/ratings/dashboard", "/ratings/dashboard.csv",
                 "/ratings/staff/mine"]:
        assert client.get(path).status_code == 403, path
