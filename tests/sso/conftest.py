"""Fixtures for provider sign-in: the fake OIDC and WeChat-style providers on real HTTP."""

import logging
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, FakeOIDCProvider
from fakes.wechat_provider import APP_ID, APP_SECRET, FakeWeChatProvider
from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.sso import clients
from app.sso.models import IdentityLink

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0 Mobile Safari/537.36 MicroMessenger/8.0.49.2600")


@pytest.fixture(scope="session")
def idp():
    provider = FakeOIDCProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def wx():
    provider = FakeWeChatProvider().start()
    yield provider
    provider.stop()


@pytest.fixture
def oidc(app, idp, monkeypatch):
    """The app configured for the fake unified identity provider, reset to good behaviour."""
    idp.reset()
    for key, value in {"OIDC_ISSUER": idp.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
                       "OIDC_CLIENT_SECRET": CLIENT_SECRET}.items():
        monkeypatch.setitem(app.config, key, value)
    with app.test_request_context():
        clients.oidc_client()
        clients.forget_metadata()  # the knobs may change the discovery document
    return idp


@pytest.fixture
def wechat(app, wx, monkeypatch):
    """The app configured for the fake WeChat-style provider."""
    wx.reset()
    for key, value in {"WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": APP_SECRET,
                       "WECHAT_AUTHORIZE_URL": wx.authorize_url,
                       "WECHAT_API_BASE": wx.base}.items():
        monkeypatch.setitem(app.config, key, value)
    return wx


@pytest.fixture
def in_wechat():
    """Request headers of WeChat's in-app browser."""
    return {"User-Agent": WECHAT_UA}


@pytest.fixture
def closed_url():
    """An http URL on a loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Dance:
    """Follow the redirects between the app (test client) and a provider (real HTTP) by hand."""

    def __init__(self, client):
        self.client = client

    def to_provider(self, start: str, **kwargs) -> str:
        response = self.client.get(start, **kwargs)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response.headers["Location"]

    def at_provider(self, url: str) -> str:
        """What the provider sends the browser back to (a browser never sends the #fragment)."""
        answer = requests.get(url.split("#", 1)[0], allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def back(self, url: str, **kwargs):
        parts = urlsplit(url)
        return self.client.get(f"{parts.path}?{parts.query}", **kwargs)

    def run(self, start: str = "/sso/oidc/login?next=/me", **kwargs):
        """The whole round trip; returns the app's answer to the callback."""
        return self.back(self.at_provider(self.to_provider(start, **kwargs)), **kwargs)


    @staticmethod
    def query(url: str) -> dict:
        return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

    def signed_in(self) -> bool:
        """Signed in: /me opens, or (a new account) asks for 用户服务协议 and 隐私政策 first."""
        response = self.client.get("/me")
        return response.status_code == 200 or response.headers.get("Location", "").startswith(
            "/consent")

    @staticmethod
    def counts() -> tuple[int, int]:
        """(users, identity links) in the database."""
        return (db.session.scalar(select(func.count(User.id))),
                db.session.scalar(select(func.count(IdentityLink.id))))

    def refused(self, response, log, status=400, words="", secrets=()):
        """A refusal page in Chinese, nobody signed in, a log line without secrets."""
        page = response.get_data(as_text=True)
        assert response.status_code == status, page
        assert "登录未成功" in page and words in page
        assert not self.signed_in()
        lines = [r.getMessage() for r in log.records if r.name.startswith("app.sso")]
        assert any("sign-in refused" in line for line in lines), lines
        assert "eyJ" not in log.text  # no JWT (ID token) in any log line
        for secret in secrets:
            assert secret not in log.text


@pytest.fixture
def dance(client):
    return Dance(client)


@pytest.fixture
def sso_log(caplog):
    # Alembic's fileConfig() in the migrations disables loggers that existed before it ran.
    for name in ("app.sso.routes", "app.sso.clients", "app.sso.services"):
        logging.getLogger(name).disabled = False
    caplog.set_level(logging.INFO)
    return caplog
