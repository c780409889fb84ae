"""The journey's writes stay cheap (issue 19): the statements each POST of bench/journey.py's
citizen sends (sign in, book, start an application, the applicant page, the consent, two photos)
and the photo's status poll, counted in-process on the demo data. Each ceiling is what the
request needs today; a change that reads a row again after its commit shows up here as one
statement more."""

import io
import re

import pytest
from applications.application_kit import VALID_ID, photo
from conftest import shanghai
from core.test_statement_counts import counted
from sqlalchemy import select

from app.extensions import db
from app.sms.models import SmsMessage

PHONE = "13900139077"
# (SQLite, PostgreSQL): on SQLite the jobs run inline after the commit, inside the request
CEILINGS = {
    # with Redis the job's row is written pushed, so its push after the commit is Redis alone;
    # inline, the run is claimed by one UPDATE ... RETURNING and sms.send reads nothing again
    # after its commits
    "POST /login/code": (15, 7),
    "POST /login/verify": (9, 8),  # one transaction; sessions.start() does not read the user again
    "POST /book/slot": (33, 24),  # the rule with its hall and item; no re-read after commit
    "POST /apply": (9, 6),  # the item with its halls and materials; the redirect takes saved_id
    # the application, its item, materials and their photos in one query (for_citizen)
    "POST applicant": (3, 3),  # the redirect is built from the route's id, not the expired row
    "POST consent": (4, 4),  # likewise
    # the card is drawn before the commit, from the rows read, with no reuse offer to look up
    # (a card with a photo has none) and the consent remembered; inline, the compression reads
    # the photo and its check in one statement
    "POST photo": (9, 5),
    "GET photo status": (3, 3),  # the poll: the photo, its check, material and application at once
}


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=False)  # a Wednesday morning
def test_each_write_of_the_journey_stays_within_its_statements(client, runner):
    """Not a timing: statements are the same on any machine and under any load."""
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    sent = {}

    def post(name, url, **kwargs):
        # the token first (the test client reads it from a page), so that only the POST counts
        headers = {"X-CSRFToken": client.csrf_token(), **kwargs.pop("headers", {})}
        with counted() as seen:
            response = client.post(url, headers=headers, **kwargs)
        assert response.status_code in (200, 303), (name, response.get_data(as_text=True))
        sent[name] = len(seen)
        return response

    post("POST /login/code", "/login/code", data={"phone": PHONE})
    code = db.session.scalar(
        select(SmsMessage).where(SmsMessage.phone == PHONE).order_by(SmsMessage.id.desc())
    ).params["code"]
    post("POST /login/verify", "/login/verify", data={"code": code, "agree": "1"})

    page = client.get("/book/HJ-002", follow_redirects=True).get_data(as_text=True)
    day = re.findall(r'class="day[^"]*" href="([^"]+)"', page)[-1].replace("&amp;", "&")
    slot = re.findall(r'class="slot" href="(/book/slot/[^"]+)"',
                      client.get(day).get_data(as_text=True))[-1].replace("&amp;", "&")
    idem = re.search(r'name="idem" value="([^"]+)"', client.get(slot).get_data(as_text=True))
    booked = post("POST /book/slot", slot, data={"idem": idem.group(1), "birth_year": "1956"})
    assert "/bookings/" in booked.headers["Location"]

    started = post("POST /apply", "/apply/SC-001")
    app_path = re.search(r"/applications/\d+", started.headers["Location"]).group(0)
    filled = post("POST applicant", f"{app_path}/applicant", data={
        "name": "王五", "id_number": VALID_ID, "phone": PHONE,
        "field-credit_code": "91152201MA0N1ABC2D", "field-change_type": "住所",
        "field-change_detail": "乌兰浩特市兴安北大路 68 号"})
    assert filled.headers["Location"].endswith("/materials")
    post("POST consent", f"{app_path}/consent", data={"agree": "1"})
    materials = client.get(f"{app_path}/materials").get_data(as_text=True)
    actions = re.findall(r'action="(/applications/\d+/materials/\d+/photos)"', materials)
    counts = []
    for action in actions[:2]:
        card = post("POST photo", action, data={"photo": (io.BytesIO(photo()), "photo.jpg")},
                    headers={"HX-Request": "true"}, content_type="multipart/form-data")
        counts.append(sent["POST photo"])
    sent["POST photo"] = max(counts)
    upload_id = re.findall(r'id="photo-(\d+)"', card.get_data(as_text=True))[-1]
    status = f"/applications/photos/{upload_id}/status"  # asked while pending, and once ready
    with counted() as seen:
        assert client.get(status, headers={"HX-Request": "true"}).status_code == 200
    sent["GET photo status"] = len(seen)
    print("statements per write", sent)
    ceiling = {name: pair[db.engine.dialect.name == "postgresql"]
               for name, pair in CEILINGS.items()}
    assert {name: (n, ceiling[name]) for name, n in sent.items() if n > ceiling[name]} == {}

