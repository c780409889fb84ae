"""Short links: one record, one purpose, expiring, unforgeable, short enough for an SMS."""

from datetime import timedelta

import pytest
from html_kit import errors

from app.core import links
from app.core.access import PHOTOS, VIEW
from app.core.links import ShortLink, make_link, resolve
from app.core.timeutil import utcnow
from app.extensions import db


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_link_fits_in_40_characters(app):
    app.config.update(SERVER_NAME="zsb.xam.gov.cn", PREFERRED_URL_SCHEME="https")
    try:
        with app.test_request_context():
            url = make_link("progress", "application", 42)
            db.session.commit()
    finally:
        app.config.update(SERVER_NAME=None, PREFERRED_URL_SCHEME="http")
    assert url.startswith("https://zsb.xam.gov.cn/t/") and len(url) <= 40


def test_resolve_checks_mac_expiry_and_existence(app):
    with app.test_request_context():
        token = _token(make_link("progress", "application", 1))
    db.session.commit()
    link, problem = resolve(token)
    assert link.entity_id == 1 and problem is None
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    assert resolve(forged) == (None, "invalid")
    assert resolve(token[:-2]) == (None, "invalid")
    db.session.query(ShortLink).update({"expires_at": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    assert resolve(token) == (None, "expired")


def test_unknown_purpose_or_bad_token_explains_itself(app, client, monkeypatch):
    with pytest.raises(ValueError):
        make_link("nothing-handles-this", "application", 1)
    monkeypatch.setitem(links.PURPOSES, "nothing-handles-this", links.Purpose("测试", frozenset()))
    with app.test_request_context():
        token = _token(make_link("nothing-handles-this", "application", 1))
    db.session.commit()
    response = client.get(f"/t/{token}")
    assert response.status_code == 404 and "链接无效" in errors(response)
    assert client.get("/t/abc").status_code == 404


def test_expired_link_is_410_and_offers_the_lookup(app, client):
    with app.test_request_context():
        token = _token(make_link("progress", "application", 1))
    db.session.commit()
    db.session.query(ShortLink).update({"expires_at": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    response = client.get(f"/t/{token}")
    assert response.status_code == 410 and "已过期" in errors(response)


def test_handler_gets_the_link_and_grant_is_scoped(app, client, monkeypatch):
    seen = []

    def view(link):
        links.grant(link)
        seen.append((link.entity, link.entity_id))
        return str(links.granted("application", 7, VIEW)) + str(
            links.granted("application", 8, VIEW)) + str(
            links.granted("application", 7, PHOTOS))

    monkeypatch.setitem(links._HANDLERS, "progress", view)
    with app.test_request_context():
        token = _token(make_link("progress", "application", 7))
    db.session.commit()
    response = client.get(f"/t/{token}")
    assert seen == [("application", 7)]
    assert response.get_data(as_text=True) == "TrueFalseFalse"
