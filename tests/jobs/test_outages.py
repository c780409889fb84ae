"""Redis goes away and comes back empty: people keep signing in (their codes still arrive: SMS run
in the web process meanwhile), looking up, booking and uploading, and every job, those Redis held
and those it never got, runs once within the bound.

Real processes throughout: the web app (`flask run`), `flask worker` and `flask scheduler`
against a redis-server of the test's own on a spare port.
"""

import io
import re
import time
from datetime import timedelta

import httpx
import pytest
from applications.application_kit import VALID_ID, photo
from conftest import TOKEN_RE
from jobs.spare_services import fresh, wait_until
from redis import Redis
from rq import Worker
from rq.suspension import suspend
from sqlalchemy import func, select

from app.applications.models import Application, AppMaterial, Upload
from app.booking import opening
from app.booking import services as booking
from app.booking.models import Booking, SlotRule
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import JobStatus, OutboxJob
from app.sms.models import SmsMessage, SmsStatus
from factories import hall, item, staff

STUCK, SWEEP = 4, 1  # JOB_STUCK_SECONDS, OUTBOX_SWEEP_SECONDS
STARTUP_ALLOWANCE = 15  # seconds for the worker to find Redis again on a loaded machine
SETTINGS = {"JOB_STUCK_SECONDS": STUCK, "OUTBOX_SWEEP_SECONDS": SWEEP}


class Phone:
    """One person's browser against the real server: its cookies, and the token htmx sends."""

    def __init__(self, base: str):
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.http.get(url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        token = TOKEN_RE.search(self.http.get("/care").text).group(1)
        headers = {"X-CSRFToken": token, **kwargs.pop("headers", {})}
        return self.http.post(url, headers=headers, **kwargs)

    def sign_in(self, phone: str) -> None:
        assert self.post("/login/code", data={"phone": phone}).status_code == 303
        code = fresh(lambda: db.session.scalar(select(SmsMessage.params).where(
            SmsMessage.phone == phone).order_by(SmsMessage.id.desc())))["code"]
        response = self.post("/login/verify", data={"agree": "1", "code": code})
        assert response.status_code == 303, response.text
        assert self.get("/me").status_code == 200

    def book(self, slot_id: int, idem: str) -> Booking:
        response = self.post(f"/book/slot/{slot_id}", data={"idem": idem})
        assert response.status_code == 303, response.text
        booking_id = int(response.headers["location"].rstrip("/").split("/")[-1])
        return fresh(lambda: db.session.get(Booking, booking_id))

    def upload_a_photo(self, code: str, phone: str) -> None:
        response = self.post(f"/apply/{code}")
        assert response.status_code == 303, response.text
        app_id = int(re.search(r"/applications/(\d+)/", response.headers["location"]).group(1))
        response = self.post(f"/applications/{app_id}/applicant",
                             data={"name": "张三", "id_number": VALID_ID, "phone": phone})
        assert response.status_code == 303, response.text
        response = self.post(f"/applications/{app_id}/consent", data={"agree": "1"})
        assert response.status_code == 303, response.text
        material = fresh(lambda: db.session.scalar(select(AppMaterial.id).where(
            AppMaterial.application_id == app_id).order_by(AppMaterial.position)))
        response = self.post(f"/applications/{app_id}/materials/{material}/photos",
                             files={"photo": ("photo.jpg", io.BytesIO(photo()), "image/jpeg")},
                             headers={"HX-Request": "true"})
        assert response.status_code == 200, response.text
        assert fresh(lambda: db.session.get(Application, app_id)) is not None


@pytest.fixture
def hall_open_every_day(app):
    """A hall, an item both bookable and applicable, its slots, and a clerk."""
    place = hall()
    service = item(halls=[place], materials=("居民身份证", "户口簿"), code="OUT-01")
    db.session.add_all(SlotRule(hall_id=place.id, item_id=service.id, weekday=day,
                                start=booking_time(9), end=booking_time(17), slot_minutes=30,
                                capacity=5) for day in range(7))
    db.session.commit()
    staff("clerk9", "secret-pass-9", "clerk", place)
    with app.test_request_context():
        today = booking.local_today()
        slots = next(found for n in range(1, 15)
                     if (found := opening.ensure_slots(place.id, service.id,
                                                       today + timedelta(days=n))))
    db.session.commit()
    return service.code, [slot.id for slot in slots]


def booking_time(hour: int):
    from datetime import time as clock

    return clock(hour, 0)


def _sms_to(phone: str) -> SmsMessage:
    return fresh(lambda: db.session.scalar(select(SmsMessage).where(
        SmsMessage.phone == phone).order_by(SmsMessage.id.desc())))


def _sms() -> list[SmsMessage]:
    return fresh(lambda: db.session.scalars(select(SmsMessage)).all())


def _all_sms_delivered() -> list[SmsMessage] | None:
    messages = _sms()
    return messages if all(m.status == SmsStatus.DELIVERED for m in messages) else None


def _outbox() -> list[tuple]:
    return fresh(lambda: db.session.execute(select(
        OutboxJob.id, OutboxJob.name, OutboxJob.status, OutboxJob.attempts, OutboxJob.run_at
    ).order_by(OutboxJob.id)).all())


def test_redis_away_then_back_empty(app, hall_open_every_day, redis_server, flask_web,
                                    flask_scheduler, flask_worker):
    code, slots = hall_open_every_day
    server = redis_server()
    conn = Redis.from_url(server.url)
    web, base = flask_web(server.url, **SETTINGS)
    flask_scheduler(server.url, **SETTINGS)
    worker = flask_worker(server.url, "--no-fork", **SETTINGS)
    wait_until(lambda: Worker.all(connection=conn), 60, "the worker did not start")
    suspend(conn)  # the worker takes nothing, so the next jobs sit in Redis

    first = Phone(base)
    first.sign_in("13800138001")
    first_booking = first.book(slots[0], "before")
    first.upload_a_photo(code, "13800138001")
    held = {row.id: row.name for row in _outbox() if row.status == JobStatus.PUSHED}
    assert "applications.compress_photo" in held.values(), "jobs were to wait in Redis"

    server.stop()  # Redis goes, with every job it held
    second, clerk, stranger = Phone(base), Phone(base), Phone(base)
    second.sign_in("13800138002")
    assert _sms_to("13800138002").status == SmsStatus.DELIVERED  # codes do not wait for Redis
    response = clerk.post("/staff/login", data={"username": "clerk9",
                                                "password": "secret-pass-9"})
    assert response.status_code == 303
    assert stranger.post("/progress/lookup",
                         data={"number": first_booking.number}).status_code == 303
    lookup = fresh(lambda: db.session.scalar(select(SmsMessage).where(
        SmsMessage.template == "lookup_code")))
    assert lookup.status == SmsStatus.DELIVERED
    assert stranger.post("/progress/lookup/code",
                         data={"code": lookup.params["code"]}).status_code == 303
    second.book(slots[1], "during")
    first.upload_a_photo(code, "13800138001")
    health = first.get("/healthz")
    assert health.status_code == 503 and health.json()["reason"].startswith("redis unreachable")
    assert health.json()["checks"]["rate_limits"] == "memory (Redis away)"
    metrics = first.get("/metrics").text
    assert re.search(r'^palm_ratelimit_fallbacks_total\{to="memory"\} 1\.0$', metrics, re.M)
    assert "rate limits count in this process's memory" in web.output()
    # Due now, not the no-show checks due hours later. A minute's slack: the web process's clock
    # and this one's may differ by a fraction of a second (a whole run on a set clock, see
    # tests/clock/sitecustomize.py, anchors each process when it starts).
    # Polled: the scheduler's sweep may be trying this very row against the dead Redis (claimed
    # as pushed, then pending again), a window a loaded machine makes long enough to read.
    def never_pushed_rows():
        rows = {row.id: row.name for row in _outbox() if row.status == JobStatus.PENDING
                and row.run_at <= utcnow() + timedelta(minutes=1)}
        return rows if "applications.compress_photo" in rows.values() else None

    never_pushed = wait_until(never_pushed_rows, 30,
                              lambda: f"the photo's job was not left pending: {_outbox()}")

    server.start()  # back on the same port, empty: no queue, no job, no suspension
    back = time.monotonic()
    due = held.keys() | never_pushed.keys()

    def all_done():
        rows = {row.id: row for row in _outbox()}
        return all(rows[job_id].status == JobStatus.DONE for job_id in due) and rows

    rows = wait_until(all_done, 90, lambda: f"not every job ran: {_outbox()}\n"
                      + worker.output()[-4000:])
    elapsed = time.monotonic() - back
    assert elapsed < STUCK + SWEEP + STARTUP_ALLOWANCE, f"took {elapsed:.1f} s"
    assert max(row.attempts for row in rows.values()) == 1  # none ran twice
    messages = wait_until(_all_sms_delivered, 30, lambda: f"not every SMS went: {_sms()}")
    assert {m.attempts for m in messages} == {1}  # each reached the provider once
    assert fresh(lambda: db.session.scalar(select(func.count()).select_from(Upload).where(
        Upload.status == "ready"))) == 2

    # The rate limits moved back to Redis by themselves.
    def limits_in_redis():
        clerk.post("/staff/login", data={"username": "nobody", "password": "x"})
        return conn.keys("LIMITS*")

    wait_until(limits_in_redis, 70, "the rate limits never went back to Redis", interval=2)
    assert first.get("/healthz").json()["checks"]["rate_limits"] == "ok"
