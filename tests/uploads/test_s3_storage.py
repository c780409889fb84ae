"""The S3 backend on its own, against the local S3-compatible server, and its settings."""

import secrets
from datetime import UTC, datetime, timedelta

import pytest
import requests
from time_machine import travel

from app.config import check_production, from_env, storage_problems
from app.uploads.storage import (
    KEY_RE,
    LocalStorage,
    S3Storage,
    StorageUnavailable,
    get_storage,
    redirect_origin,
    s3_storage,
)


@pytest.fixture
def store(s3_server):
    bucket = s3_server.new_bucket(f"palm-{secrets.token_hex(6)}")
    return s3_storage(s3_server.settings(bucket))


def test_put_get_exists_delete(store, s3_server):
    key = store.save(b"\xff\xd8 a photo")
    assert KEY_RE.match(key) and store.exists(key)
    assert store.open(key) == b"\xff\xd8 a photo"
    assert s3_server.objects(store.bucket) == [key]
    assert store.save(b"another") != key
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # twice is fine: jobs run twice
    with pytest.raises(FileNotFoundError):
        store.open(key)


def test_keys_that_are_not_ours_are_refused(store):
    for key in ("../secret", "ab/../../x", "AB/" + "0" * 32, "", None):
        with pytest.raises(KeyError):
            store.open(key)
        with pytest.raises(KeyError):
            store.url(key, 60)


def test_presigned_url_reads_once_checked_and_then_expires(store):
    key = store.save(b"jpeg bytes")
    url = store.url(key, 60)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"jpeg bytes"
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, max-age=60"
    assert requests.get(url.split("?")[0], timeout=10).status_code == 403  # the bucket is private
    # Signed two minutes ago for one: the store refuses it. The test sets the signing clock
    # rather than sleeping past a short lifetime, which a busy machine could overrun.
    with travel(datetime.now(UTC) - timedelta(minutes=2), tick=False):
        old = store.url(key, 60)
    expired = requests.get(old, timeout=10)
    assert expired.status_code == 403 and "Request has expired" in expired.text


def test_a_public_endpoint_signs_urls_for_browsers(s3_server):
    """Machines reach the store inside (S3_ENDPOINT_URL); browsers get S3_PUBLIC_ENDPOINT_URL."""
    bucket = s3_server.new_bucket(f"palm-{secrets.token_hex(6)}")
    public = s3_server.endpoint.replace("127.0.0.1", "localhost")
    store = s3_storage(s3_server.settings(bucket, S3_PUBLIC_ENDPOINT_URL=public))
    key = store.save(b"x")
    url = store.url(key, 60)
    assert url.startswith(f"{public}/{bucket}/{key}?")
    assert requests.get(url, timeout=10).content == b"x"  # signed for the host it names


def test_an_unreachable_store_raises_storage_unavailable(s3_server):
    settings = s3_server.settings("palm-nowhere", S3_ENDPOINT_URL="http://127.0.0.1:9")
    with pytest.raises(StorageUnavailable):
        s3_storage(settings).save(b"x")
    with pytest.raises(StorageUnavailable):  # a missing bucket is a setup fault, not a lost file
        s3_storage(s3_server.settings("palm-no-such-bucket")).save(b"x")


def test_get_storage_follows_the_setting(app, s3_server):
    assert isinstance(get_storage(), LocalStorage)
    settings = s3_server.settings("palm-any")
    saved = {k: app.config.get(k) for k in settings}
    try:
        app.config.update(settings)
        assert isinstance(get_storage(), S3Storage) and get_storage().bucket == "palm-any"
    finally:
        app.config.update(saved)


def _production(**extra):
    return {"APP_ENV": "production", "DEBUG": False, "REDIS_URL": "redis://r:6379/0",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://palm@db/palm",
            "SMS_BACKEND": "aliyun", "SECRET_KEY": "k" * 48, "UPLOAD_DIR": "/srv/palm/uploads",
            "PHOTO_STORAGE": "local", "S3_SERVE": "proxy", "S3_ADDRESSING_STYLE": "auto",
            "S3_URL_SECONDS": 300, **extra}


def test_production_accepts_a_complete_s3_setup_and_names_what_is_missing():
    s3 = dict(PHOTO_STORAGE="s3", S3_BUCKET="palm-photos", S3_ACCESS_KEY_ID="id",
              S3_SECRET_ACCESS_KEY="secret", S3_ENDPOINT_URL="https://oss.example.cn")
    check_production(_production(**s3))
    check_production(_production())
    with pytest.raises(RuntimeError, match="S3_BUCKET must be set"):
        check_production(_production(**{**s3, "S3_BUCKET": None}))
    assert storage_problems(_production(PHOTO_STORAGE="ftp")) == [
        "PHOTO_STORAGE must be local or s3"]
    assert storage_problems(_production(**s3, S3_SERVE="public")) == [
        "S3_SERVE must be proxy or redirect"]
    assert storage_problems(_production(**s3, S3_URL_SECONDS=86400)) == [
        "S3_URL_SECONDS must be between 1 and 3600 (short-lived links)"]


def test_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "storage-settings-test")  # from_env() writes none then
    monkeypatch.setenv("PHOTO_STORAGE", "S3")
    monkeypatch.setenv("S3_BUCKET", "palm-photos")
    monkeypatch.setenv("S3_URL_SECONDS", "120")
    monkeypatch.delenv("S3_SERVE", raising=False)
    settings = from_env()
    assert settings["PHOTO_STORAGE"] == "s3" and settings["S3_BUCKET"] == "palm-photos"
    assert settings["S3_URL_SECONDS"] == 120 and settings["S3_SERVE"] == "proxy"


def test_the_csp_lets_images_come_from_the_bucket_only_in_redirect_mode():
    base = {"PHOTO_STORAGE": "s3", "S3_ENDPOINT_URL": "http://minio:9000"}
    assert redirect_origin({**base, "S3_SERVE": "proxy"}) is None
    assert redirect_origin({"PHOTO_STORAGE": "local", "S3_SERVE": "redirect"}) is None
    assert redirect_origin({**base, "S3_SERVE": "redirect", "S3_ADDRESSING_STYLE": "path",
                            "S3_PUBLIC_ENDPOINT_URL": "https://photos.example.cn"}
                           ) == "https://photos.example.cn"
    assert redirect_origin({**base, "S3_SERVE": "redirect"}) == "http://minio:9000 http://*.minio:9000"
    assert redirect_origin({"PHOTO_STORAGE": "s3", "S3_SERVE": "redirect"}
                           ) == "https://*.amazonaws.com"


def test_every_storage_setting_is_documented_and_in_the_example_env(monkeypatch):
    from pathlib import Path

    monkeypatch.setenv("SECRET_KEY", "storage-settings-test")
    names = [n for n in from_env() if n == "PHOTO_STORAGE" or n.startswith("S3_")]
    assert {"PHOTO_STORAGE", "S3_BUCKET", "S3_SERVE", "S3_URL_SECONDS"} <= set(names)
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    example = (root / "deploy" / "palm.env.example").read_text()
    for name in names:
        assert f"`{name}`" in readme and f"\n{name}=" in example, name
