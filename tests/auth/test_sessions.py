"""Signing out ends the session for real: a copy of the old cookies opens nothing afterwards
(issue 16, class 4). Signing in starts a fresh session; a staff password change, a disabled
account and 退出所有设备 end every earlier one."""

import pytest
from conftest import Auth
from html_kit import errors
from sqlalchemy import select

import factories
from app.auth.models import User
from app.extensions import db, limiter

COOKIES = ("session", "remember_token")


def _cookies(client) -> dict[str, str]:
    return {name: c.value for name in COOKIES if (c := client.get_cookie(name)) is not None}


def _browser(app, **cookies):
    """Another browser holding copies of these cookies (a stolen or shared-computer copy)."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def _signed_in(browser) -> bool:
    response = browser.get("/me")
    return response.status_code == 200


def test_signing_out_makes_copies_of_the_cookies_useless(app, client, auth):
    auth.login_citizen()
    copies = _cookies(client)
    assert set(copies) == {"session", "remember_token"}
    assert _signed_in(_browser(app, **copies))
    assert auth.logout().status_code == 303
    assert not _signed_in(client)
    assert not _signed_in(_browser(app, session=copies["session"]))
    assert not _signed_in(_browser(app, remember_token=copies["remember_token"]))
    assert not _signed_in(_browser(app, **copies))


def test_the_remember_cookie_alone_keeps_the_installed_app_signed_in(app, client, auth):
    auth.login_citizen()
    assert _signed_in(_browser(app, remember_token=_cookies(client)["remember_token"]))


def test_signing_in_starts_a_fresh_session(app, client, auth):
    auth.login_citizen("13800138000")
    first = _cookies(client)
    with client.session_transaction() as session:
        session["link_grants"] = [["application", 1, "progress", 4102444800.0]]
    auth.login_citizen("13900139000")  # the next person at a shared computer, without 退出
    assert not _signed_in(_browser(app, **first))
    with client.session_transaction() as session:
        assert "link_grants" not in session  # nothing of the earlier session carries over
    assert _cookies(client)["session"] != first["session"]


def test_sign_out_everywhere_ends_every_session_of_that_person(app, client, auth):
    auth.login_citizen()
    limiter.reset()  # one code a minute is for people, not for tests
    other_phone = app.test_client()
    Auth(other_phone).login_citizen()
    page = client.get("/me").get_data(as_text=True)
    assert "退出所有设备" in page
    response = client.post("/logout/all")
    assert response.status_code == 303
    assert not _signed_in(client) and not _signed_in(other_phone)


@pytest.fixture
def clerk():
    return factories.staff("clerk1", "old-password-1")


def test_a_staff_password_change_ends_the_other_sessions(app, client, auth, clerk):
    auth.login_staff("clerk1", "old-password-1")
    desk = app.test_client()
    Auth(desk).login_staff("clerk1", "old-password-1")
    copies = _cookies(desk)
    response = client.post("/staff/password", data={
        "current": "old-password-1", "new": "new-password-22", "again": "new-password-22"})
    assert response.status_code == 303
    assert _signed_in(client)  # the browser that changed it gets a fresh session
    assert not _signed_in(desk) and not _signed_in(_browser(app, **copies))
    assert client.post("/logout").status_code == 303
    Auth(client).login_staff("clerk1", "new-password-22")


def test_a_wrong_current_password_changes_nothing(client, auth, clerk):
    auth.login_staff("clerk1", "old-password-1")
    response = client.post("/staff/password", data={
        "current": "wrong", "new": "new-password-22", "again": "new-password-22"})
    assert response.status_code == 400 and "当前密码不正确" in errors(response)
    assert db.session.get(User, clerk.id).check_password("old-password-1")


def test_a_disabled_account_is_signed_out_everywhere(app, client, auth, clerk, runner):
    auth.login_staff("clerk1", "old-password-1")
    copies = _cookies(client)
    result = runner.invoke(args=["staff", "disable", "clerk1"])
    assert result.exit_code == 0, result.output
    assert not _signed_in(client) and not _signed_in(_browser(app, **copies))
    # enabling the account again does not bring the old sessions back
    assert runner.invoke(args=["staff", "enable", "clerk1"]).exit_code == 0
    assert not _signed_in(_browser(app, **copies))


def test_an_account_switched_off_in_the_database_is_signed_out_at_once(app, client, auth, clerk):
    auth.login_staff("clerk1", "old-password-1")
    db.session.execute(db.update(User).where(User.id == clerk.id).values(active=False))
    db.session.commit()
    assert not _signed_in(client)
    assert db.session.scalar(select(User.active).where(User.id == clerk.id)) is False


def test_a_browser_holding_an_ended_sign_in_is_told_to_drop_its_cookies(app, client, auth):
    auth.login_citizen()
    copies = _cookies(client)
    auth.logout()
    other = _browser(app, **copies)
    response = other.get("/me")
    assert response.status_code == 302  # to the sign-in page
    assert other.get_cookie("remember_token") is None  # deleted by the reply
    assert other.get("/me").status_code == 302  # and it stays signed out
