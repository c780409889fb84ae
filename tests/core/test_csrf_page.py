"""The 页面已过期 page never completes the refused request (issue 16, class 5): it sends the
person back to the page they were on, with what they typed, to do it themselves."""

import json

from bs4 import BeautifulSoup
from html_kit import errors, field_value

import factories
from app.extensions import db
from app.feedback.models import UnresolvedReport


def _forms(page: str) -> list:
    return BeautifulSoup(page, "html.parser").find_all("form")


def test_the_expired_page_offers_no_resubmit(client, auth):
    auth.login_citizen()
    response = client.post("/logout", data={"anything": "x"}, csrf=False,
                           headers={"Referer": "http://localhost/me"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "页面已过期" in errors(response)
    assert "重新提交" not in page
    # no form on it posts anywhere but the sign-out and care switches of the page frame
    assert not [f for f in _forms(page) if f.get("action") == "/logout"
                and f.find("input", attrs={"name": "anything"})]
    assert client.get("/me").status_code == 200  # still signed in: nothing was done
    back = BeautifulSoup(page, "html.parser").find("a", id="csrf-back")
    assert back["href"] == "/me"


def test_the_way_back_refuses_an_off_site_referer(client):
    response = client.post("/care", csrf=False,
                           headers={"Referer": "https://evil.example/steal"})
    back = BeautifulSoup(response.get_data(as_text=True), "html.parser").find("a", id="csrf-back")
    assert back["href"] == "/care"  # the care switch's own page, not the Referer


def test_what_was_typed_comes_back_on_the_original_page(client, auth):
    item = factories.item(code="HJ-9", halls=[factories.hall()])
    auth.login_citizen()
    typed = "窗口说还要社区证明,之前没告知,跑了两趟"
    response = client.post("/feedback/report", csrf=False, data={
        "item": item.code, "hall": "1", "description": typed},
        headers={"Referer": f"http://localhost/feedback/report?item={item.code}"})
    assert response.status_code == 400
    assert db.session.query(UnresolvedReport).count() == 0
    page = response.get_data(as_text=True)
    assert typed in page  # shown on the refusal page too, so nothing is lost
    back = BeautifulSoup(page, "html.parser").find("a", id="csrf-back")
    assert back["href"] == f"/feedback/report?item={item.code}"
    original = client.get(back["href"]).get_data(as_text=True)
    restore = BeautifulSoup(original, "html.parser").find(id="restore-form")
    assert restore is not None and restore["data-action"] == "/feedback/report"
    fields = json.loads(restore["data-fields"])
    assert fields["description"] == typed and "csrf_token" not in fields
    assert field_value(original, "csrf_token")  # a fresh token to submit with
    # shown once: a later page does not fill the form again
    again = client.get(back["href"]).get_data(as_text=True)
    assert BeautifulSoup(again, "html.parser").find(id="restore-form") is None


def test_passwords_and_codes_are_never_kept(client):
    factories.staff("clerk1", "secret-pass-1")
    response = client.post("/staff/login", csrf=False, data={
        "username": "clerk1", "password": "secret-pass-1"},
        headers={"Referer": "http://localhost/staff/login"})
    assert response.status_code == 400 and "secret-pass-1" not in response.get_data(as_text=True)
    page = client.get("/staff/login").get_data(as_text=True)
    fields = json.loads(BeautifulSoup(page, "html.parser").find(id="restore-form")["data-fields"])
    assert fields == {"username": "clerk1"}
