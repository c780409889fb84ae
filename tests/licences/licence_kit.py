"""A hall, an item that issues a 居住证, an item whose material a 居住证 stands in for, staff,
and helpers that take an application through pre-review to 办结 over HTTP."""

import re

from applications.application_kit import VALID_ID
from sqlalchemy import select

import factories
from app.applications.models import Application
from app.auth.models import User
from app.extensions import db
from app.licences.models import Licence

PASSWORD = "secret-pass-1"


def _staff(username, hall_row, role="clerk"):
    user = User(username=username, role=role, name=f"窗口{username}", hall=hall_row)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


class World:
    def __init__(self, app):
        self.app = app
        self.hall = factories.hall(short_name="测试大厅")
        self.other_hall = factories.hall()
        self.issuer = factories.item(halls=[self.hall], materials=("居民身份证",),
                                     code="JZ-001", name="居住证办理", department="公安局",
                                     licence_type="residence_permit", licence_years=1)
        self.user_item = factories.item(halls=[self.hall], materials=("居住证", "租房合同"),
                                        code="GZ-001", name="公租房申请")
        self.user_item.materials[0].licence_type = "residence_permit"
        db.session.commit()
        self.clerk = _staff("clerk1", self.hall)
        self.admin = _staff("admin1", self.hall, role="admin")
        self.far_clerk = _staff("clerk9", self.other_hall)
        self.citizen = factories.citizen("13800138000", name="张三")
        self.other = factories.citizen("13900139000", name="李四")

    def client(self, user=None):
        client = self.app.test_client()
        if user is not None:
            factories.sign_in(client, user)
        return client

    def draft(self, client, item) -> Application:
        response = client.post(f"/apply/{item.code}")
        assert response.status_code == 303, response.status_code
        app_id = int(re.search(r"/applications/(\d+)/", response.location).group(1))
        response = client.post(f"/applications/{app_id}/applicant", data={
            "name": "张三", "id_number": VALID_ID, "phone": "13800138000"})
        assert response.status_code == 303, response.get_data(as_text=True)
        # 同意 the processing of sensitive personal information, asked before the first photo
        assert client.post(f"/applications/{app_id}/consent",
                           data={"agree": "1"}).status_code == 303
        return db.session.get(Application, app_id)

    def upload_all(self, client, row, photo):
        import io

        for m in row.materials:
            if m.licence_id:
                continue
            response = client.post(f"/applications/{row.id}/materials/{m.id}/photos",
                                   data={"photo": (io.BytesIO(photo), "p.jpg")},
                                   content_type="multipart/form-data",
                                   headers={"HX-Request": "true"})
            assert response.status_code == 200, response.get_data(as_text=True)

    def complete(self, row, clerk_client):
        """The clerk claims, accepts, starts and completes (办结)."""
        assert clerk_client.post(f"/review/{row.id}/claim").status_code == 303
        data = {"decision": "accept"}
        data.update({f"verdict-{m.id}": "ok" for m in row.materials})
        response = clerk_client.post(f"/review/{row.id}/decide", data=data)
        assert response.status_code == 303, response.get_data(as_text=True)
        for to in ("processing", "completed"):
            assert clerk_client.post(f"/review/{row.id}/{to}").status_code == 303

    def licences_of(self, user) -> list[Licence]:
        db.session.expire_all()
        return list(db.session.scalars(select(Licence).where(Licence.holder_user_id == user.id)))
