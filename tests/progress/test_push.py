"""Web Push: off without VAPID settings; subscriptions; one encrypted push per SMS and browser."""

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from html_kit import attrs, button, has

import factories
from app.extensions import db
from app.jobs import OutboxJob
from app.progress.jobs import payload, push
from app.progress.models import PushSent, PushSubscription
from app.progress.notify import notify


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _vapid() -> dict:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    return {"VAPID_PUBLIC_KEY": _b64(public),
            "VAPID_PRIVATE_KEY": _b64(key.private_numbers().private_value.to_bytes(32, "big")),
            "VAPID_SUBJECT": "mailto:zwfw@xam.gov.cn"}


def _browser_keys() -> dict:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": _b64(public), "auth": _b64(os.urandom(16))}


@pytest.fixture
def vapid(app):
    saved = {k: app.config.get(k) for k in ("VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY",
                                            "VAPID_SUBJECT")}
    app.config.update(_vapid())
    yield app.config
    app.config.update(saved)


@pytest.fixture
def push_service():
    """A local stand-in for a browser vendor's push service: records requests, answers `status`."""
    seen, answer = [], {"status": 201}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(answer["status"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen, answer
    server.shutdown()


def _subscribe(user, endpoint) -> PushSubscription:
    row = PushSubscription(user_id=user.id, endpoint=endpoint, **_browser_keys())
    db.session.add(row)
    db.session.commit()
    return row


def test_no_push_job_without_vapid_settings(app, matters):
    owner = factories.citizen()
    _subscribe(owner, "https://push.example.invalid/abc")
    with app.test_request_context():
        notify("testcase", matters.add(owner).id, "accepted")
    db.session.commit()
    assert db.session.query(OutboxJob).filter_by(name="progress.push").count() == 0


def test_push_is_encrypted_signed_and_sent_once(app, matters, vapid, push_service):
    base, seen, _ = push_service
    owner = factories.citizen()
    sub = _subscribe(owner, base + "/send/abc")
    with app.test_request_context():
        message = notify("testcase", matters.add(owner).id, "completed")
    db.session.commit()
    assert db.session.query(OutboxJob).filter_by(name="progress.push").count() == 1
    assert push(message.id, owner.id) == "pushed"
    assert push(message.id, owner.id) == "pushed"  # a re-run sends nothing more
    assert len(seen) == 1
    path, headers, body = seen[0]
    assert path == "/send/abc" and headers["content-encoding"] == "aes128gcm"
    assert headers["authorization"].startswith("vapid t=") and len(body) > 16
    assert "已办结" not in body.decode("latin-1")  # encrypted, not plain text
    assert db.session.query(PushSent).filter_by(subscription_id=sub.id).count() == 1


def test_gone_subscription_is_forgotten(app, matters, vapid, push_service):
    base, seen, answer = push_service
    answer["status"] = 410
    owner = factories.citizen()
    _subscribe(owner, base + "/send/gone")
    with app.test_request_context():
        message = notify("testcase", matters.add(owner).id, "accepted")
    db.session.commit()
    push(message.id, owner.id)
    assert len(seen) == 1 and db.session.query(PushSubscription).count() == 0


def test_payload_drops_signature_and_link(app, matters):
    owner = factories.citizen()
    with app.test_request_context():
        message = notify("testcase", matters.add(owner).id, "completed")
    data = json.loads(payload(message))
    assert data["body"] == "您的办件已办结,请选择窗口领取或快递送达"
    assert data["url"] == message.params["link"]


def test_subscribe_endpoint(client, auth, vapid):
    keys = _browser_keys()
    good = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": keys}
    assert client.post("/progress/push/subscribe", json=good).status_code == 302  # sign in first
    auth.login_citizen()
    response = client.post("/progress/push/subscribe", json={"endpoint": "http://x", "keys": {}})
    assert response.status_code == 400 and "推送订阅信息不完整" in response.json["error"]
    assert client.post("/progress/push/subscribe", json=good).status_code == 201
    assert client.post("/progress/push/subscribe", json=good).status_code == 201
    assert db.session.query(PushSubscription).count() == 1
    client.post("/progress/push/unsubscribe", json={"endpoint": good["endpoint"]})
    assert db.session.query(PushSubscription).count() == 0


def test_subscribe_is_404_when_push_is_off(client, auth):
    auth.login_citizen()
    response = client.post("/progress/push/subscribe", json={"endpoint": "https://x/y"})
    assert response.status_code == 404


def test_opt_in_card_only_with_vapid_for_the_owner(app, client, auth, matters):
    matter = matters.add(factories.citizen())
    auth.login_citizen()
    assert not has(client.get("/progress/mine"), "#push-optin")
    app.config.update(_vapid())
    try:
        mine = client.get("/progress/mine").get_data(as_text=True)
        timeline = client.get(f"/progress/testcase/{matter.id}").get_data(as_text=True)
        key = app.config["VAPID_PUBLIC_KEY"]
    finally:
        app.config.update(VAPID_PUBLIC_KEY=None, VAPID_PRIVATE_KEY=None, VAPID_SUBJECT=None)
    assert button(mine, "开启消息通知") and button(timeline, "开启消息通知")
    assert attrs(mine, "#push-optin")["data-key"] == key
    assert "js/progress.js" in mine
