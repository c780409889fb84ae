"""Structured logs: a request id on every request line and job line, and no numbers or codes."""

import io
import json
import logging
import re
import threading
from datetime import time, timedelta

import pytest
import requests
from applications.application_kit import VALID_ID, photo
from conftest import Auth, shanghai
from sqlalchemy import select

from app import jobs
from app.auth.models import User
from app.booking.models import Booking, Slot, SlotRule
from app.core import logcontext as context
from app.core.timeutil import to_local, utcnow
from app.extensions import db, limiter
from app.ops.logs import JsonFormatter, TextFormatter, WerkzeugRequestFilter, served_by
from app.ops.middleware import request_id_from
from app.ratings.models import RatingInvite
from app.sms.models import SmsMessage
from factories import hall, item, staff

PHONE = "13800138000"


class Capture(logging.Handler):
    """Every record at INFO and above, formatted as the production JSON stream would."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def entries(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def captured(app, monkeypatch):
    """The app in JSON-log mode, with the root logger's INFO records captured."""
    monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
    root = logging.getLogger()
    handler, level = Capture(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def _record(msg, *args, exc_info=None, **extra):
    record = logging.LogRecord("app.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def test_json_formatter_redacts_every_field():
    try:
        raise ValueError(f"duplicate phone {PHONE}, id {VALID_ID}")
    except ValueError:
        import sys

        exc = sys.exc_info()
    token = context.bind(request_id="rid-12345678", path=f"/x/{PHONE}")
    try:
        line = JsonFormatter().format(_record("sent to %s (%s)", PHONE, VALID_ID, exc_info=exc,
                                              who={"phone": PHONE, "ids": [VALID_ID]}))
    finally:
        context.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "sent to 138****8000 (110105********002X)"
    assert entry["who"] == {"phone": "138****8000", "ids": ["110105********002X"]}
    assert entry["path"] == "/x/138****8000"
    assert entry["request_id"] == "rid-12345678"
    assert "138****8000" in entry["exception"] and "ValueError" in entry["exception"]
    assert PHONE not in line and VALID_ID not in line
    assert {"time", "level", "logger"} <= entry.keys() and entry["level"] == "WARNING"


def test_text_formatter_redacts_the_whole_line_and_shows_the_request():
    token = context.bind(request_id="rid-abcdefgh", job="sms.send", job_id=7)
    try:
        line = TextFormatter().format(_record("code for %s", PHONE))
    finally:
        context.reset(token)
    assert PHONE not in line and "138****8000" in line
    assert "request_id=rid-abcdefgh" in line and "job=sms.send" in line and "job_id=7" in line


def test_request_id_comes_back_and_a_bad_one_is_replaced(client, captured):
    given = client.get("/offline", headers={"X-Request-ID": "0123456789abcdef0123456789abcdef"})
    assert given.headers["X-Request-ID"] == "0123456789abcdef0123456789abcdef"
    made = client.get("/offline").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    for bad in ("a b c d e f g h", "x" * 65, "<script>1234", PHONE, "short"):
        answered = client.get("/offline", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert answered != bad and re.fullmatch(r"[0-9a-f]{32}", answered)
    lines = [e for e in captured.entries() if e["logger"] == "app.request"]
    assert len(lines) == 7
    assert lines[0]["request_id"] == "0123456789abcdef0123456789abcdef"
    made_ids = [e["request_id"] for e in lines[1:]]
    assert len(set(made_ids)) == 6 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in made_ids)
    assert lines[0]["method"] == "GET" and lines[0]["path"] == "/offline"
    assert lines[0]["status"] == 200 and lines[0]["endpoint"] == "pages.offline"
    assert isinstance(lines[0]["duration_ms"], float)
    assert request_id_from(None) != request_id_from(None)


def test_a_new_request_id_never_looks_like_a_phone_number(monkeypatch):
    import uuid

    ids = iter(["8e9fc2dac18138008720b6115834ac2c", "0f" * 16])  # 18138008720 inside the first
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(next(ids)))
    assert request_id_from(None) == "0f" * 16


def test_query_strings_stay_out_of_the_request_line(client, captured):
    client.get(f"/services?q={PHONE}&id={VALID_ID}")
    line = next(e for e in captured.entries() if e["logger"] == "app.request")
    assert line["path"] == "/services" and "?" not in line["message"]


def test_jobs_carry_the_request_id_of_the_request_that_queued_them(client, captured, run_jobs):
    response = client.post("/login/code", data={"phone": PHONE})
    run_jobs()
    rid = response.headers["X-Request-ID"]
    row = db.session.scalar(select(jobs.OutboxJob).where(jobs.OutboxJob.name == "sms.send"))
    assert row.request_id == rid
    sent = [e for e in captured.entries() if e.get("job") == "sms.send"]
    assert sent, captured.lines
    assert all(e["request_id"] == rid and e["job_id"] == row.id for e in sent)


def test_console_sms_shows_the_code_at_the_outbox_not_in_the_json_stream(
        app, client, captured, capsys, run_jobs, monkeypatch):
    client.post("/login/code", data={"phone": PHONE})
    run_jobs()
    code = db.session.scalar(select(SmsMessage)).params["code"]
    out = capsys.readouterr()
    assert code not in out.out + out.err
    assert all(code not in line for line in captured.lines)
    assert any("/dev/outbox" in e["message"] for e in captured.entries())
    monkeypatch.setitem(app.config, "DEBUG", True)
    assert code in client.get("/dev/outbox").get_data(as_text=True)


def test_console_sms_prints_the_code_for_the_developer_with_text_logs(
        app, client, capsys, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "LOG_FORMAT", "text")
    client.post("/login/code", data={"phone": PHONE})
    run_jobs()
    code = db.session.scalar(select(SmsMessage)).params["code"]
    printed = capsys.readouterr().out
    assert code in printed and PHONE not in printed and "138****8000" in printed


def test_werkzeug_request_lines_lose_their_query_or_go_in_json_mode():
    def line():
        return logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                                 '127.0.0.1 - - [x] "%s" %s %s',
                                 (f"GET /services?q={PHONE} HTTP/1.1", "200", "-"), None)

    werkzeug_filter = WerkzeugRequestFilter("text")
    served_by({"LOG_FORMAT": "text"})  # the app that answered in this thread
    text = line()
    assert werkzeug_filter.filter(text)
    assert text.getMessage() == '127.0.0.1 - - [x] "GET /services HTTP/1.1" 200 -'
    served_by({"LOG_FORMAT": "json"})
    assert not werkzeug_filter.filter(line())
    banner = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "Running on %s",
                               ("http://127.0.0.1:5000",), None)
    assert werkzeug_filter.filter(banner)


def test_the_development_server_logs_one_json_line_per_request(app, captured):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        for _ in range(2):
            assert requests.get(f"{url}/offline?phone={PHONE}", timeout=5).status_code == 200
    finally:
        server.shutdown()
        thread.join(5)
    werkzeug = [e for e in captured.entries() if e["logger"] == "werkzeug"]
    ours = [e for e in captured.entries() if e["logger"] == "app.request"]
    assert werkzeug == [] and len(ours) == 2
    assert all(e["request_id"] and e["path"] == "/offline" for e in ours)
    assert all(PHONE not in line for line in captured.lines)


def test_a_wrong_log_format_stops_the_start():
    from app.factory import create_app

    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "LOG_FORMAT": "xml"})


# -- a whole journey, every line scanned ----------------------------------------------------------

def _codes() -> set[str]:
    rows = db.session.scalars(select(SmsMessage)).all()
    return {row.params["code"] for row in rows if (row.params or {}).get("code")}


def _journey(app, run_jobs):
    """Sign in by code, book, apply with photos, look up progress (mine and by number), rate."""
    hall_row = hall()
    window = hall_row.windows[0]
    service = item(halls=[hall_row], materials=("申请书", "居民身份证"), code="OPS-01")
    staff("clerk1", "secret-pass-1", "clerk", hall_row)
    db.session.add_all([SlotRule(hall_id=hall_row.id, item_id=service.id, weekday=d,
                                 start=time(0, 0), end=time(23, 30), slot_minutes=30,
                                 capacity=5) for d in range(7)])
    db.session.commit()
    citizen = app.test_client()
    Auth(citizen).login_citizen(PHONE)
    run_jobs()
    now = utcnow()
    # The slot's day is the hall's local date (a UTC date is a day behind in the morning there),
    # and its rule the one for that weekday.
    starts = now + timedelta(minutes=90)
    day = to_local(starts).date()
    rule = db.session.scalar(select(SlotRule).where(SlotRule.weekday == day.weekday()))
    slot = Slot(rule_id=rule.id, hall_id=hall_row.id, item_id=service.id, day=day,
                starts_at=starts, ends_at=starts + timedelta(minutes=30),
                capacity=5, window_group="A")
    db.session.add(slot)
    db.session.commit()
    assert citizen.post(f"/book/slot/{slot.id}", data={"idem": "ops-1"}).status_code == 303
    run_jobs()
    booking = db.session.scalar(select(Booking))

    response = citizen.post(f"/apply/{service.code}")
    app_id = int(re.search(r"/applications/(\d+)/", response.location).group(1))
    assert citizen.post(f"/applications/{app_id}/applicant", data={
        "name": "张三", "id_number": VALID_ID, "phone": PHONE}).status_code == 303
    assert citizen.post(f"/applications/{app_id}/consent", data={"agree": "1"}).status_code == 303
    from app.applications.models import Application

    application = db.session.get(Application, app_id)
    for material in application.materials[:2]:
        sent = citizen.post(f"/applications/{app_id}/materials/{material.id}/photos",
                            data={"photo": (io.BytesIO(photo()), "photo.jpg")},
                            content_type="multipart/form-data", headers={"HX-Request": "true"})
        assert sent.status_code == 200
        run_jobs()
    assert citizen.post(f"/applications/{app_id}/submit").status_code == 303
    run_jobs()

    assert citizen.get("/progress/mine").status_code == 200
    assert citizen.get(f"/progress/booking/{booking.id}").status_code == 200
    assert citizen.get(f"/progress/application/{app_id}").status_code == 200
    stranger = app.test_client()
    limiter.reset()
    assert stranger.post("/progress/lookup", data={"number": booking.number}).status_code == 303
    run_jobs()
    code = db.session.scalars(select(SmsMessage).where(SmsMessage.template == "lookup_code")
                              .order_by(SmsMessage.id.desc())).first().params["code"]
    assert stranger.post("/progress/lookup/code", data={"code": code}).status_code == 303

    clerk = app.test_client()
    Auth(clerk).login_staff("clerk1", "secret-pass-1")
    clerk.post("/clerk/queue/window", data={"window_id": window.id})
    assert clerk.post("/clerk/queue/checkin", data={"number": booking.number}).status_code == 303
    assert clerk.post("/clerk/queue/call").status_code == 303
    from app.booking.models import Ticket

    ticket = db.session.scalar(select(Ticket))
    assert clerk.post(f"/clerk/queue/{ticket.id}/served").status_code == 303
    run_jobs()
    invite = db.session.scalar(select(RatingInvite))
    assert citizen.get(f"/ratings/{invite.id}/details?score=5").status_code == 200
    assert citizen.post(f"/ratings/{invite.id}", data={"score": 5}).status_code == 303
    run_jobs()
    return db.session.scalar(select(User).where(User.phone == PHONE))


# A working day at 10:00: the booking in the journey is for later that same day, so that the clerk
# can check it in (at 23:40 it would have been tomorrow's, and the check-in refused).
@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_a_whole_journey_logs_no_phone_id_number_or_code(app, captured, capsys, run_jobs):
    user = _journey(app, run_jobs)
    codes = _codes()
    assert len(codes) >= 2  # the sign-in code and the lookup code
    entries = captured.entries()  # every line is one JSON object
    requests_ = [e for e in entries if e["logger"] == "app.request"]
    assert len(requests_) >= 20
    for entry in requests_:
        assert re.fullmatch(r"[0-9a-f]{32}", entry["request_id"]), entry
        assert {"method", "path", "status", "duration_ms", "time", "level"} <= entry.keys()
    assert any(e.get("user_id") == str(user.id) for e in requests_)
    job_lines = [e for e in entries if e.get("job")]
    assert job_lines and all(e.get("job_id") for e in job_lines)
    request_ids = {e["request_id"] for e in requests_}
    assert any(e.get("request_id") in request_ids for e in job_lines)
    printed = capsys.readouterr()
    stream = "\n".join(captured.lines) + printed.out + printed.err
    for secret in (PHONE, VALID_ID, VALID_ID.lower()):
        assert secret not in stream
    for code in codes:  # a code as a whole number, not inside a hex request id
        assert not re.search(rf"(?<![0-9a-fA-F]){code}(?![0-9a-fA-F])", stream), code


def test_a_failed_statement_logs_no_values(captured):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        db.session.execute(text("INSERT INTO no_such_table (code) VALUES (:code)"),
                           {"code": "city-code-482913"})
    except DBAPIError:
        logging.getLogger("app.test").exception("insert failed")
    finally:
        db.session.rollback()
    line = captured.lines[-1]
    assert "no_such_table" in line and "482913" not in line
