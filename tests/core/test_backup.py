"""scripts/backup.sh and restore.sh: a backup restored into an empty database and photo store.

On PostgreSQL (TEST_DATABASE_URL) the whole round trip runs with the machine's pg_dump and
pg_restore, into a temporary database made for the test and dropped afterwards, with the photos on
the disk and on the local S3-compatible server. The photo half also runs on SQLite.
"""

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy
from applications.application_kit import photo
from sqlalchemy import select, text

from app import jobs
from app.applications import photos, services
from app.applications.models import Application, Upload
from app.config import database_url
from app.extensions import db
from app.uploads.storage import LocalStorage, get_storage, s3_storage
from factories import citizen, hall, item

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("TEST_DATABASE_URL")
STORE_VARS = ("PHOTO_STORAGE", "UPLOAD_DIR", "S3_ENDPOINT_URL", "S3_PUBLIC_ENDPOINT_URL",
              "S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY",
              "S3_ADDRESSING_STYLE", "S3_SERVE", "S3_URL_SECONDS")


def _run(script: str, *args, check=True, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in STORE_VARS + ("DATABASE_URL",)}
    clean.update(PYTHON=sys.executable, **{k: str(v) for k, v in env.items() if v is not None})
    done = subprocess.run([str(ROOT / "scripts" / script), *map(str, args)], env=clean,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _store_env(config: dict) -> dict:
    return {k: config.get(k) for k in STORE_VARS}


@pytest.fixture
def photos_in(app, tmp_path, s3_server, request):
    """Point the app at an empty store of the kind asked for: a fresh folder or bucket."""
    if request.param == "s3":
        settings = s3_server.settings(s3_server.new_bucket(f"palm-{secrets.token_hex(6)}"))
    else:
        settings = {"PHOTO_STORAGE": "local", "UPLOAD_DIR": str(tmp_path / "photos")}
    saved = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    yield request.param
    app.config.update(saved)


def _empty_store(kind: str, tmp_path, s3_server) -> dict:
    if kind == "s3":
        return s3_server.settings(s3_server.new_bucket(f"palm-{secrets.token_hex(6)}"))
    return {"PHOTO_STORAGE": "local", "UPLOAD_DIR": str(tmp_path / "restored")}


def _open_store(settings: dict):
    if settings["PHOTO_STORAGE"] == "s3":
        return s3_storage(settings)
    return LocalStorage(settings["UPLOAD_DIR"])


def _application_with_photos(run_jobs) -> tuple[Application, dict[str, bytes]]:
    """A citizen's draft with one compressed photo per material, and the stored bytes."""
    hall_row = hall()
    service = item(halls=[hall_row], materials=("居民身份证", "户口簿"), code="BK-01")
    user = citizen("13800138000", "张三")
    row = services.start(user, item=service)
    for material in row.materials:
        photos.add_photo(row, material.id, photo(), user.id)
    jobs.flush()  # no request here to flush the outbox: run (or push) the compression now
    run_jobs()
    uploads = db.session.scalars(select(Upload)).all()
    assert len(uploads) == 2 and {u.status for u in uploads} == {"ready"}
    keys = [k for u in uploads for k in (u.image_key, u.thumb_key)]
    return row, {k: get_storage().open(k) for k in keys}


@pytest.fixture
def empty_database():
    """A new empty PostgreSQL database beside the test one, dropped afterwards."""
    parts = urlsplit(PG)
    name = f"{parts.path.lstrip('/')}_restore_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(database_url(PG), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.skipif(not PG, reason="pg_dump and pg_restore need PostgreSQL (TEST_DATABASE_URL); "
                                   "production refuses SQLite, so there is nothing to back up")
@pytest.mark.parametrize("photos_in", ["local", "s3"], indirect=True)
def test_a_backup_restores_into_an_empty_database(app, run_jobs, photos_in, empty_database,
                                                  tmp_path, s3_server):
    row, stored = _application_with_photos(run_jobs)
    backups = tmp_path / "backups"
    old = backups / "20200101T000000Z"
    old.mkdir(parents=True)
    os.utime(old, (time.time() - 30 * 86400,) * 2)

    done = _run("backup.sh", DATABASE_URL=PG, BACKUP_DIR=backups, BACKUP_KEEP_DAYS=14,
                **_store_env(app.config))
    [folder] = [p for p in backups.iterdir() if p.is_dir()]
    assert "4 photos" in done.stdout and not old.exists()  # the old one went; the new one stays
    assert {p.name for p in folder.iterdir()} == {"db.dump", "photos.tar", "SHA256SUMS", "INFO"}
    assert "photos 4" in (folder / "INFO").read_text()
    assert "4 photos" in _run("restore.sh", "--check", folder).stdout

    # The live database is never a target.
    refused = _run("restore.sh", folder, check=False, DATABASE_URL=PG, **_store_env(app.config))
    assert refused.returncode != 0 and "already has" in refused.stderr

    target = _empty_store(photos_in, tmp_path, s3_server)
    _run("restore.sh", folder, DATABASE_URL=empty_database, **_store_env(target))
    restored = sqlalchemy.create_engine(database_url(empty_database))
    try:
        with restored.connect() as conn:
            number, phone = conn.execute(text(
                'SELECT a.number, u.phone FROM application a JOIN "user" u ON u.id = a.citizen_id'
            )).one()
            keys = conn.execute(text("SELECT image_key, thumb_key FROM upload")).all()
            heads = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        restored.dispose()
    assert (number, phone) == (row.number, "13800138000")
    assert {k for pair in keys for k in pair} == set(stored)
    live_heads = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    assert heads == live_heads
    store = _open_store(target)
    assert {k: store.open(k) for k in stored} == stored


def test_a_damaged_backup_is_refused_by_the_check(tmp_path):
    folder = tmp_path / "20261123T020000Z"
    folder.mkdir()
    (folder / "db.dump").write_bytes(b"PGDMP not really")
    (folder / "photos.tar").write_bytes(b"")
    (folder / "INFO").write_text("photos 0\n")
    subprocess.run("sha256sum db.dump photos.tar > SHA256SUMS", shell=True, cwd=folder,
                   check=True)
    (folder / "photos.tar").write_bytes(b"changed after the backup")
    done = _run("restore.sh", "--check", folder, check=False)
    assert done.returncode != 0 and "checksums do not match" in done.stderr


def test_backup_refuses_sqlite(tmp_path):
    done = _run("backup.sh", check=False, DATABASE_URL=f"sqlite:///{tmp_path}/palm.db",
                BACKUP_DIR=tmp_path / "b")
    assert done.returncode != 0 and "must point at PostgreSQL" in done.stderr


@pytest.mark.parametrize("photos_in", ["local", "s3"], indirect=True)
def test_the_photo_store_goes_to_a_tar_file_and_back(app, run_jobs, photos_in, tmp_path,
                                                     s3_server):
    """The photo half of a backup, from the disk or a bucket into the other kind of store."""
    _, stored = _application_with_photos(run_jobs)
    source = _store_env(app.config)
    tar = tmp_path / "photos.tar"
    helper = [sys.executable, str(ROOT / "scripts" / "photo_store.py")]
    env = {k: v for k, v in os.environ.items() if k not in STORE_VARS}

    def run(*args, store):
        done = subprocess.run([*helper, *args], env={**env, **{
            k: str(v) for k, v in store.items() if v is not None}},
            capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run("export", tar, store=source) == "4"
    other = _empty_store("local" if photos_in == "s3" else "s3", tmp_path, s3_server)
    assert run("count", store=other) == "0"
    assert run("import", tar, store=other) == "4"
    assert run("count", store=other) == "4"
    target = _open_store(other)
    assert {k: target.open(k) for k in stored} == stored
