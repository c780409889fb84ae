"""Discovery and JWKS are kept for METADATA_TTL, then fetched again: providers change them."""

import time

from app.sso import clients

DISCOVERY = ("GET", "/.well-known/openid-configuration")


def test_discovery_is_fetched_once_then_again_after_the_ttl(app, oidc, monkeypatch):
    with app.test_request_context():
        clients.oidc_authorization_url("http://localhost/sso/oidc/callback")
        clients.oidc_authorization_url("http://localhost/sso/oidc/callback")
        assert oidc.requests.count(DISCOVERY) == 1
        later = time.time() + clients.METADATA_TTL + 1
        monkeypatch.setattr("app.sso.clients.time.time", lambda: later)
        clients.oidc_authorization_url("http://localhost/sso/oidc/callback")
        assert oidc.requests.count(DISCOVERY) == 2


def test_a_refused_discovery_document_is_fetched_again(app, oidc):
    oidc.discovery_body = '{"issuer": "https://elsewhere.example"}'
    with app.test_request_context():
        for _ in range(2):
            try:
                clients.oidc_authorization_url("http://localhost/sso/oidc/callback")
            except clients.SsoError:
                pass
        assert oidc.requests.count(DISCOVERY) == 2
