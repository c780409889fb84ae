"""Files the browser fetches beside a page never write the session cookie (app/core/sessions.py).

The service worker's update check can start before the page's reply and end after it; had it saved
the session, the older cookie would come back without the page's CSRF token and the next 退出 would
be refused (seen in a browser test, where the worker's fetch carries another browser string).
"""

import pytest


def _session_cookies(response) -> list[str]:
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]


@pytest.mark.parametrize("path", ["/sw.js", "/manifest.webmanifest", "/static/css/app.css",
                                  "/offline"])
def test_files_fetched_beside_a_page_leave_the_session_alone(client, auth, path):
    auth.login_citizen()
    other_browser = {"User-Agent": "Mozilla/5.0 (service worker) HeadlessChrome"}
    response = client.get(path, headers=other_browser)
    assert response.status_code == 200
    assert _session_cookies(response) == []


def test_a_page_from_another_browser_string_still_saves_the_session(client, auth):
    """The rule is for those files only: a page marks the session not fresh as before."""
    auth.login_citizen()
    response = client.get("/me", headers={"User-Agent": "Mozilla/5.0 another"})
    assert response.status_code == 200
    assert len(_session_cookies(response)) == 1


def test_the_page_token_survives_a_late_service_worker_reply(client, auth):
    """The race itself: the worker's fetch carries the cookie from before the page's reply."""
    auth.login_citizen()
    before_page = client.get_cookie("session").value
    page = client.get("/me")
    assert page.status_code == 200
    after_page = client.get_cookie("session").value
    assert after_page != before_page  # the page added its CSRF token
    client.set_cookie("session", before_page)  # the worker's request, started before the reply
    late = client.get("/sw.js", headers={"User-Agent": "Mozilla/5.0 (service worker)"})
    assert _session_cookies(late) == []
    client.set_cookie("session", after_page)  # what the browser holds: the page's cookie
    assert client.post("/logout").status_code == 303


def test_a_lookup_survives_the_offline_page_precached_beside_it(client):
    """A new visitor's first tap (获取验证码 of 一号查询) and the worker's install, which fetches
    /offline with the cookie from before the tap's reply: the number asked for stays."""
    assert client.get("/progress/lookup").status_code == 200
    first_page = client.get_cookie("session").value
    assert client.post("/progress/lookup", data={"number": "YY2612020001"},
                       headers={"HX-Request": "true"}).status_code == 200
    after_tap = client.get_cookie("session").value
    client.set_cookie("session", first_page)  # the worker's request, started before the reply
    late = client.get("/offline", headers={"User-Agent": "Mozilla/5.0 (service worker)"})
    assert late.status_code == 200 and _session_cookies(late) == []
    client.set_cookie("session", after_tap)  # what the browser holds: the tap's cookie
    assert client.get("/progress/lookup/code").status_code == 200  # not sent back to start
