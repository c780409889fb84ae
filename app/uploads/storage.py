"""Where photo files live: the local disk by default, or an S3-compatible bucket.

PHOTO_STORAGE=local keeps files under UPLOAD_DIR, outside static/, under random names; nothing
serves that folder, so a file is only ever reached through a view that checks who is asking.

PHOTO_STORAGE=s3 keeps the same keys as objects in S3_BUCKET (any S3 API: MinIO, a cloud bucket),
so several web and worker machines share the photos. The bucket stays private: a photo is either
proxied by the view that checked who is asking, or (S3_SERVE=redirect) that view answers with a
presigned URL that lives S3_URL_SECONDS.
"""

import os
import re
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app

KEY_RE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}$")


class StorageUnavailable(OSError):
    """The store could not be reached or refused the request (not: the file is missing)."""


class Storage(Protocol):
    def save(self, data: bytes) -> str: ...

    def open(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def new_key() -> str:
    """A random key with a two-level fan-out, so no folder (or listing prefix) grows huge."""
    name = secrets.token_hex(16)
    return f"{name[:2]}/{name}"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key):  # keys come from our rows, but check
        raise KeyError(key)
    return key


class LocalStorage:
    """Files on the local disk."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, data: bytes) -> str:
        """Store bytes under a new random key and return the key."""
        return self.put(new_key(), data)

    def put(self, key: str, data: bytes) -> str:
        """Store bytes under a given key (a restore keeps the keys the rows hold)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # a crash never leaves half a file under the real key
        return key

    def keys(self) -> Iterator[str]:
        """Every stored key (for backups), in order."""
        for path in sorted(self.root.glob("*/*")):
            key = path.relative_to(self.root).as_posix()
            if KEY_RE.match(key) and path.is_file():
                yield key

    def open(self, key: str) -> bytes:
        """The bytes stored under a key; FileNotFoundError when gone."""
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove a file; deleting a missing one is not an error (jobs run twice)."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


class S3Storage:
    """Objects in one private bucket of an S3-compatible store, under the same keys."""

    def __init__(self, client, bucket: str, url_client=None):
        self.client, self.bucket = client, bucket
        self.url_client = url_client or client  # signs URLs for the public endpoint

    def _call(self, method: str, key: str, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, Key=check_key(key), **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"NoSuchKey", "404", "NotFound"}:
                raise FileNotFoundError(key) from exc
            raise StorageUnavailable(f"S3 {method} failed: {code}") from exc
        except BotoCoreError as exc:  # endpoint unreachable, timeouts, bad credentials setup
            raise StorageUnavailable(f"S3 {method} failed: {type(exc).__name__}") from exc

    def save(self, data: bytes) -> str:
        """Store bytes under a new random key and return the key (one PUT: whole or nothing)."""
        return self.put(new_key(), data)

    def put(self, key: str, data: bytes) -> str:
        """Store bytes under a given key (a restore keeps the keys the rows hold)."""
        self._call("put_object", key, Body=data, ContentType="application/octet-stream")
        return key

    def keys(self) -> Iterator[str]:
        """Every stored key (for backups); other objects in the bucket are left alone."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for item in page.get("Contents", []):
                    if KEY_RE.match(item["Key"]):
                        yield item["Key"]
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"S3 listing failed: {exc}") from exc

    def open(self, key: str) -> bytes:
        """The bytes stored under a key; FileNotFoundError when gone."""
        body = self._call("get_object", key)["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def delete(self, key: str) -> None:
        """Remove an object; deleting a missing one is not an error in S3 (jobs run twice)."""
        self._call("delete_object", key)

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", key)
        except FileNotFoundError:
            return False
        return True

    def url(self, key: str, seconds: int, content_type: str = "image/jpeg") -> str:
        """A presigned GET that works for `seconds` only; the caller has checked the asker."""
        return self.url_client.generate_presigned_url("get_object", ExpiresIn=seconds, Params={
            "Bucket": self.bucket, "Key": check_key(key),
            "ResponseContentType": content_type, "ResponseContentDisposition": "inline",
            "ResponseCacheControl": f"private, max-age={seconds}"})


_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def s3_client(config, endpoint: str | None = None):
    """One thread-safe boto3 client per process and settings (creating one is slow).

    The process id is part of the key: a forked child (a gunicorn or RQ work horse) never reuses
    its parent's connection pool."""
    endpoint = endpoint or config.get("S3_ENDPOINT_URL") or None
    settings = (endpoint, config.get("S3_REGION"), config.get("S3_ACCESS_KEY_ID"),
                config.get("S3_SECRET_ACCESS_KEY"), config.get("S3_ADDRESSING_STYLE"), os.getpid())
    with _clients_lock:
        if settings not in _clients:
            import boto3
            from botocore.config import Config

            _clients[settings] = boto3.session.Session().client(
                "s3", endpoint_url=endpoint, region_name=settings[1] or None,
                aws_access_key_id=settings[2] or None, aws_secret_access_key=settings[3] or None,
                # Worst case 2 × (3 + 10) s: inside gunicorn's 30 s timeout, so a hung store
                # gets a clear 503 rather than a killed worker.
                config=Config(signature_version="s3v4", connect_timeout=3, read_timeout=10,
                              retries={"max_attempts": 2, "mode": "standard"},
                              s3={"addressing_style": settings[4] or "auto"}))
        return _clients[settings]


def s3_storage(config) -> S3Storage:
    public = config.get("S3_PUBLIC_ENDPOINT_URL") or None
    return S3Storage(s3_client(config), config["S3_BUCKET"],
                     s3_client(config, public) if public else None)


def get_storage() -> LocalStorage | S3Storage:
    """The configured backend."""
    config = current_app.config
    if config["PHOTO_STORAGE"] == "s3":
        return s3_storage(config)
    return LocalStorage(config["UPLOAD_DIR"])


def redirect_origin(config) -> str | None:
    """The origin photos are sent to when S3_SERVE=redirect (for the CSP's img-src), else None."""
    if config.get("PHOTO_STORAGE") != "s3" or config.get("S3_SERVE") != "redirect":
        return None
    endpoint = config.get("S3_PUBLIC_ENDPOINT_URL") or config.get("S3_ENDPOINT_URL")
    if not endpoint:  # AWS itself: buckets live under *.amazonaws.com
        return "https://*.amazonaws.com"
    parts = urlsplit(endpoint)
    origins = [f"{parts.scheme}://{parts.netloc}"]
    if config.get("S3_ADDRESSING_STYLE") != "path":  # virtual-hosted style: bucket.host
        origins.append(f"{parts.scheme}://*.{parts.netloc}")
    return " ".join(origins)


def photo_url(key: str) -> str | None:
    """A short-lived presigned URL when photos are served by redirect, else None (proxy)."""
    config = current_app.config
    if redirect_origin(config) is None:
        return None
    return s3_storage(config).url(key, int(config["S3_URL_SECONDS"]))
