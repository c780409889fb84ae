"""A local S3-compatible server for the object-storage tests: moto in server mode, own process.

moto answers the S3 API but checks no signatures; like a real bucket, this one refuses anonymous
requests, and checks presigned URLs (signature and expiry) before moto sees them.

`python tests/s3_kit.py ACCESS_KEY SECRET` serves on 127.0.0.1 on a free port and prints the port.
"""

import hashlib
import hmac
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

ACCESS_KEY, SECRET_KEY, REGION = "palmtestkey", "palm-test-secret-key", "us-east-1"


def _denied(start_response, message: str):
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            f"<Message>{message}</Message></Error>").encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml"),
                                     ("Content-Length", str(len(body)))])
    return [body]


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def presign_problem(environ, access_key: str, secret: str, now: datetime) -> str | None:
    """Why S3 would refuse this presigned (SigV4 query) request, or None if it is good."""
    raw = environ.get("QUERY_STRING", "")
    pairs = [p.split("=", 1) if "=" in p else [p, ""] for p in raw.split("&") if p]
    params = dict(parse_qsl(raw))
    try:
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        lifetime = int(params["X-Amz-Expires"])
        key_id, scope = params["X-Amz-Credential"].split("/", 1)
    except (KeyError, ValueError):
        return "Query-string authentication requires X-Amz-Date, X-Amz-Expires, X-Amz-Credential"
    if key_id != access_key:
        return "The AWS Access Key Id you provided does not exist in our records."
    if now > signed_at + timedelta(seconds=lifetime):
        return "Request has expired"
    if now < signed_at - timedelta(minutes=15):
        return "Request is not yet valid"
    query = "&".join(f"{k}={v}" for k, v in sorted(
        (k, v) for k, v in pairs if k != "X-Amz-Signature"))
    path = quote(environ.get("PATH_INFO", "/"), safe="/~")
    canonical = "\n".join([environ["REQUEST_METHOD"], path, query,
                           f"host:{environ.get('HTTP_HOST', '')}\n", params["X-Amz-SignedHeaders"],
                           "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, params.get("X-Amz-Signature", "")):
        return "The request signature we calculated does not match the signature you provided."
    return None


def private_bucket(app, access_key: str, secret: str):
    """WSGI middleware: no anonymous reads, presigned URLs checked as S3 checks them."""

    def middleware(environ, start_response):
        if "X-Amz-Signature=" in environ.get("QUERY_STRING", ""):
            problem = presign_problem(environ, access_key, secret, datetime.now(UTC))
            if problem:
                return _denied(start_response, problem)
        elif not environ.get("HTTP_AUTHORIZATION"):
            return _denied(start_response, "Access Denied")
        return app(environ, start_response)

    return middleware


def serve(access_key: str, secret: str) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = private_bucket(DomainDispatcherApplication(create_backend_app),
                         access_key, secret)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    print(server.server_address[1], flush=True)

    def exit_with_parent():  # stdin is the test run's pipe: EOF means it has gone, even killed
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    server.serve_forever()


class S3Server:
    """The server process, its endpoint, and settings that point the app at a bucket on it."""

    def __init__(self, process: subprocess.Popen, port: int):
        self.process, self.port = process, port
        self.endpoint = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, timeout: float = 30) -> "S3Server":
        """Start it and wait until it answers; raise (so tests fail, never skip) if it cannot."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = tempfile.TemporaryFile("w+")  # its request log, and why it died if it did
        process = subprocess.Popen([sys.executable, __file__, ACCESS_KEY, SECRET_KEY],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                   env=env, text=True)
        line = process.stdout.readline().strip()  # the port, once it listens
        if not line.isdigit():
            process.kill()
            process.wait()
            log.seek(0)
            raise RuntimeError(f"the local S3 server (moto) did not start: {log.read()[-2000:]}")
        server = cls(process, int(line))
        deadline = time.monotonic() + timeout
        while True:
            try:
                server.client().list_buckets()
                return server
            except Exception as exc:  # noqa: BLE001
                if time.monotonic() > deadline or process.poll() is not None:
                    server.stop()
                    raise RuntimeError(f"the local S3 server does not answer: {exc}") from exc
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def new_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, **extra) -> dict:
        """App config for PHOTO_STORAGE=s3 on this server."""
        return {"PHOTO_STORAGE": "s3", "S3_ENDPOINT_URL": self.endpoint, "S3_BUCKET": bucket,
                "S3_REGION": REGION, "S3_ACCESS_KEY_ID": ACCESS_KEY,
                "S3_SECRET_ACCESS_KEY": SECRET_KEY, "S3_ADDRESSING_STYLE": "path",
                "S3_SERVE": "proxy", "S3_PUBLIC_ENDPOINT_URL": None, "S3_URL_SECONDS": 300,
                **extra}

    def objects(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
