"""A hall with an item whose materials include one that may be missing, staff, and photo makers."""

import io
import re

import pytest
from applications.application_kit import VALID_ID, photo
from sqlalchemy import select

from app.applications.models import Application, Upload
from app.auth.models import User
from app.extensions import db, limiter
from app.sms.models import SmsMessage
from factories import hall, item, staff

MATERIALS = ("变更登记申请书", "法定代表人身份证", "新住所使用证明")
_HASHES: dict[str, str] = {}


def _staff(username, password, hall_row):
    """Staff as the factory makes them, hashing each password once per run (hashing is slow)."""
    if password not in _HASHES:
        _HASHES[password] = staff(username, password, "clerk", hall_row).password_hash
        return db.session.scalar(select(User).where(User.username == username))
    user = User(username=username, role="clerk", name=f"窗口{username}", hall=hall_row,
                password_hash=_HASHES[password])
    db.session.add(user)
    db.session.commit()
    return user


class World:
    def __init__(self, client, auth, run_jobs):
        self.client, self.auth, self.run_jobs = client, auth, run_jobs
        self.hall = hall()
        self.other_hall = hall()
        self.item = item(halls=[self.hall], materials=MATERIALS, promised_days=3, code="SC-T01")
        self.item.materials[2].may_be_missing = True
        db.session.commit()
        self.clerk = _staff("clerk1", "secret-pass-1", self.hall)
        self.clerk2 = _staff("clerk2", "secret-pass-1", self.hall)
        self.far_clerk = _staff("clerk3", "secret-pass-1", self.other_hall)

    def draft(self, phone="13800138000") -> Application:
        """Sign in, start the draft and fill in the applicant's facts."""
        self.as_citizen(phone)
        response = self.client.post(f"/apply/{self.item.code}")
        assert response.status_code == 303
        app_id = int(re.search(r"/applications/(\d+)/", response.location).group(1))
        response = self.client.post(f"/applications/{app_id}/applicant", data={
            "name": "张三", "id_number": VALID_ID, "phone": phone})
        assert response.status_code == 303, response.get_data(as_text=True)
        self.consent(app_id)
        return db.session.get(Application, app_id)

    def consent(self, app_id: int) -> None:
        """同意 the processing of sensitive personal information, asked before the first photo."""
        response = self.client.post(f"/applications/{app_id}/consent", data={"agree": "1"})
        assert response.status_code == 303, response.get_data(as_text=True)

    def upload(self, row: Application, position: int, data: bytes, name="photo.jpg"):
        material = row.materials[position]
        response = self.client.post(
            f"/applications/{row.id}/materials/{material.id}/photos",
            data={"photo": (io.BytesIO(data), name)}, content_type="multipart/form-data",
            headers={"HX-Request": "true"})
        self.run_jobs()
        return response

    def submitted(self, phone="13800138000") -> Application:
        row = self.draft(phone)
        for position in (0, 1):
            assert self.upload(row, position, photo()).status_code == 200
        assert self.client.post(f"/applications/{row.id}/submit").status_code == 303
        db.session.refresh(row)
        return row

    def as_citizen(self, phone="13800138000"):
        """Sign in again (the one-code-a-minute limit is for people, not for tests)."""
        limiter.reset()
        self.auth.logout()
        self.auth.login_citizen(phone)

    def as_clerk(self, user=None):
        self.auth.logout()
        self.auth.login_staff((user or self.clerk).username, "secret-pass-1")

    def uploads(self, row) -> list[Upload]:
        return db.session.scalars(select(Upload).join(Upload.material).where(
            Upload.material.has(application_id=row.id)).order_by(Upload.id)).all()

    def view_link(self, row) -> str:
        """A 查看进度 short link to the application, as its 预审通过 SMS carries (submitting sends
        none: the person has just done it on screen)."""
        from app.core.links import make_link

        with self.client.application.test_request_context("/"):
            url = make_link("progress", "application", row.id)
        db.session.commit()
        return "/t/" + url.rsplit("/t/", 1)[1]

    def sms(self, template: str) -> list[SmsMessage]:
        return db.session.scalars(select(SmsMessage).where(
            SmsMessage.template == template).order_by(SmsMessage.id)).all()


@pytest.fixture
def world(client, auth, run_jobs):
    return World(client, auth, run_jobs)
