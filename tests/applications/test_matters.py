"""Applications in 我的办件, their timeline and their SMS link."""

import re

from app.extensions import db
from app.sms.models import SmsMessage


def test_application_in_progress(app, client, auth, world):
    row = world.submitted()
    world.as_citizen()
    page = client.get("/progress/mine").get_data(as_text=True)
    assert row.number in page, page
    page = client.get(f"/progress/application/{row.id}").get_data(as_text=True)
    assert "已提交预审" in page
    auth.logout()
    sms = [m for m in db.session.query(SmsMessage).all() if "/t/" in m.text]
    path = "/t/" + re.search(r"/t/([A-Za-z0-9]{12})", sms[0].text).group(1)
    r = client.get(path)
    assert r.status_code == 302
    assert r.headers["Location"] == f"/progress/application/{row.id}"
    assert client.get(f"/applications/{row.id}").status_code in (200, 302)
