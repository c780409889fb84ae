"""Pages, roles, health and the installable app."""

import json

import pytest
from html_kit import errors, targets, texts

import factories
from app.factory import create_app


@pytest.mark.parametrize("path", ["/me"])  # /progress: tests/progress/test_choose.py
def test_login_required(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_home_lists_the_entries_and_popular_items(client):
    factories.item(name="新生儿出生登记")
    page = client.get("/").get_data(as_text=True)
    for entry in ["我要看", "我要查", "我要办", "我要问", "我要评"]:
        assert entry in page
    assert "新生儿出生登记" in page
    assert texts(page, "nav.tabbar a") == ["首页", "办事", "预约", "进度", "我的"]


def test_me_page_shows_masked_phone_only(client, auth):
    auth.login_citizen("13912345678")
    page = client.get("/me").get_data(as_text=True)
    assert "139****5678" in page and "13912345678" not in page


def test_role_guard(client, auth):
    """事项管理 is for administrators: a visitor signs in, a citizen or a clerk is refused."""
    assert client.get("/admin/catalog").status_code == 302
    auth.login_citizen()
    response = client.get("/admin/catalog")
    assert response.status_code == 403 and "没有权限" in errors(response)
    auth.logout()
    factories.staff("clerk", "clerk-password")
    auth.login_staff("clerk", "clerk-password")
    assert client.get("/admin/catalog").status_code == 403
    auth.logout()
    factories.staff("boss", "boss-password", role="admin")
    auth.login_staff("boss", "boss-password")
    assert client.get("/admin/catalog").status_code == 200


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"


def test_healthz_reports_a_dead_database(tmp_path):
    broken = create_app({"TESTING": True, "SECRET_KEY": "x", "REDIS_URL": None,
                         "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("error")
    assert response.json["reason"].startswith("database unreachable")


def test_healthz_reports_a_dead_redis(app):
    broken = create_app({"TESTING": True, "SECRET_KEY": "x",
                         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")
    assert response.json["reason"].startswith("redis unreachable: jobs wait in the outbox")


def test_manifest_is_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["name"].startswith("掌上办") and manifest["display"] == "standalone"
    sizes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_service_worker_never_caches_pages(client):
    response = client.get("/sw.js")
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    assert "request.mode === \"navigate\"" in script and "/offline" in script
    assert "cache.put(request" in script and 'startsWith("/static/")' in script


def test_static_files_are_versioned_and_long_cached(client):
    page = client.get("/").get_data(as_text=True)
    assets = targets(page)
    assert any(a.startswith("/static/css/app.css?v=") for a in assets)
    assert any(a.startswith("/static/js/htmx-2.0.8.min.js?v=") for a in assets)
    response = client.get("/static/css/app.css")
    assert "max-age=31536000" in response.headers["Cache-Control"]


def test_production_refuses_development_parts(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-that-is-long-enough-for-prod")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        create_app()


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_dev_outbox_is_off_unless_development_or_debug(app, client, auth, monkeypatch):
    auth.login_citizen()
    assert client.get("/dev/outbox").status_code == 404  # the test app is set up as production
    monkeypatch.setattr(app, "debug", True)
    page = client.get("/dev/outbox").get_data(as_text=True)
    assert "验证码" in page and "138****8000" in page


def _app_from_the_environment(app, monkeypatch, **env):
    """An app built from settings alone, as `flask run` or gunicorn builds one (test database)."""
    for name in ("APP_ENV", "FLASK_DEBUG", "SMS_BACKEND", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-development-secret")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app()


def test_development_shows_the_outbox_without_debug(app, auth, monkeypatch):
    """`flask run` without --debug (Flask then sets debug off) still shows the codes."""
    auth.login_citizen()
    dev = _app_from_the_environment(app, monkeypatch)
    dev.debug = False  # what `flask run` does when FLASK_DEBUG is unset
    page = dev.test_client().get("/dev/outbox")
    assert page.status_code == 200 and "验证码" in page.get_data(as_text=True)
    staging = _app_from_the_environment(app, monkeypatch, APP_ENV="staging", FLASK_DEBUG="0")
    assert staging.test_client().get("/dev/outbox").status_code == 404


def test_production_never_has_the_outbox(monkeypatch):
    from app.config import check_production, from_env

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-that-is-long-enough-for-prod")
    assert from_env()["DEV_OUTBOX"] is False
    config = {**from_env(), "DEV_OUTBOX": True, "SMS_BACKEND": "aliyun", "REDIS_URL": None}
    with pytest.raises(RuntimeError, match="outbox"):
        check_production(config)


def test_production_refuses_the_example_secret(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "change-me-to-a-long-random-string")
    monkeypatch.setenv("DATABASE_URL", "postgresql://palm@127.0.0.1/palm")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SMS_BACKEND", "aliyun")
    monkeypatch.setenv("FLASK_DEBUG", "0")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
