"""A local stand-in for a browser vendor's push service that checks what a real one checks: the
VAPID JWT (ES256, signed by the configured key, for this origin, not expired) and, as the browser
would, decrypts the aes128gcm payload with the subscription's private key and auth secret."""

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)


def vapid_settings() -> dict:
    key = ec.generate_private_key(ec.SECP256R1())
    return {"VAPID_PUBLIC_KEY": b64(_public(key)),
            "VAPID_PRIVATE_KEY": b64(key.private_numbers().private_value.to_bytes(32, "big")),
            "VAPID_SUBJECT": "mailto:zwfw@xam.gov.cn"}


class Browser:
    """One subscribed browser: what PushManager.subscribe() gives, and the keys to read it."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def keys(self) -> dict:
        return {"p256dh": b64(_public(self.key)), "auth": b64(self.auth)}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth,
                                           version="aes128gcm"))


class PushService:
    """Serve POST /send/<name>; `browsers[name]` decrypts, `answer` is the status to give."""

    def __init__(self, vapid_public_key: str):
        self.vapid = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(),
                                                                  unb64(vapid_public_key))
        self.browsers: dict[str, Browser] = {}
        self.received: list[tuple[str, dict]] = []  # (name, decrypted payload)
        self.refused: list[str] = []
        self.answer = 201
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                name = self.path.rsplit("/", 1)[-1]
                problem = service.check(self.headers, name)
                status = 400 if problem else service.answer
                if problem:
                    service.refused.append(problem)
                elif status == 201:
                    service.received.append((name, service.browsers[name].decrypt(body)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def subscription(self, name: str) -> dict:
        self.browsers[name] = Browser()
        return {"endpoint": f"{self.base}/send/{name}", "keys": self.browsers[name].keys()}

    def check(self, headers, name: str) -> str | None:
        """What a real push service would refuse, or None."""
        if headers.get("Content-Encoding") != "aes128gcm" or name not in self.browsers:
            return "not aes128gcm, or unknown subscription"
        auth = headers.get("Authorization", "")
        if not auth.startswith("vapid t="):
            return "no VAPID authorization"
        token, _, key = auth[len("vapid t="):].partition(",k=")
        if unb64(key) != self.vapid.public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint):
            return "VAPID key is not the application server key"
        head, claims, signature = token.split(".")
        raw = unb64(signature)
        try:
            self.vapid.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                                   int.from_bytes(raw[32:], "big")),
                              f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "bad VAPID signature"
        data = json.loads(unb64(claims))
        if data.get("aud") != self.base or data.get("exp", 0) < time.time():
            return "VAPID claims for another origin, or expired"
        if not str(data.get("sub", "")).startswith("mailto:"):
            return "VAPID subject missing"
        return None

    def stop(self):
        self.server.shutdown()
