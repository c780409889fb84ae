"""Two halls with their home-visit areas, a bookable item, helpers, and two citizens."""

from datetime import time

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.booking.models import SlotRule
from app.extensions import db
from app.help.models import HelpArea, HelpRequest
from app.sms.models import SmsMessage
from factories import citizen, hall, item, staff

_HASHES: dict[str, str] = {}


def _staff(username, password, role, hall_row, name):
    """Staff as the factory makes them, hashing each password once per run (hashing is slow)."""
    if password not in _HASHES:
        user = staff(username, password, role, hall_row)
        user.name = name
        db.session.commit()
        _HASHES[password] = user.password_hash
        return user
    user = User(username=username, role=role, name=name, hall=hall_row,
                password_hash=_HASHES[password])
    db.session.add(user)
    db.session.commit()
    return user


class World:
    def __init__(self, app, client, auth):
        self.app, self.client, self.auth = app, client, auth
        self.hall = hall(name="乌兰浩特市政务服务中心", short_name="乌兰浩特市大厅",
                         area="乌兰浩特市")
        self.other_hall = hall(name="科尔沁右翼前旗政务服务中心", short_name="科右前旗大厅",
                               area="科尔沁右翼前旗")
        for n, name in enumerate(["和平街道", "兴安街道", "葛根庙镇"]):
            db.session.add(HelpArea(hall_id=self.hall.id, name=name, position=n))
        for n, name in enumerate(["科尔沁镇", "索伦镇"]):
            db.session.add(HelpArea(hall_id=self.other_hall.id, name=name, position=n))
        self.item = item(halls=[self.hall], materials=(), name="户口迁移(市内)", code="HJ-002")
        self.clerk = _staff("clerk1", "secret-pass-1", "clerk", self.hall, "王丽")
        self.clerk2 = _staff("clerk2", "secret-pass-2", "clerk", self.hall, "赵敏")
        self.admin = _staff("admin1", "secret-pass-3", "admin", self.hall, "李强")
        self.far_clerk = _staff("clerk3", "secret-pass-4", "clerk", self.other_hall, "孙杰")
        self.citizen = citizen("13800138000", "张三")
        self.other = citizen("13900139000", "李四")
        db.session.add_all(SlotRule(hall_id=self.hall.id, item_id=self.item.id, weekday=d,
                                    start=time(9, 0), end=time(11, 0), slot_minutes=30,
                                    capacity=2) for d in range(7))
        db.session.commit()

    def area(self, name: str) -> HelpArea:
        return db.session.scalar(select(HelpArea).where(HelpArea.name == name))

    def form(self, **kw) -> dict:
        data = {"hall_id": str(self.hall.id), "mode": "phone", "contact_name": "张三",
                "contact_phone": "13800138000", "details": "不清楚要带什么材料"}
        data.update(kw)
        return data

    def home_form(self, **kw) -> dict:
        return self.form(mode="home", area_id=str(self.area("兴安街道").id),
                         address="兴安北大路 12 号 3 单元 501 室", reason="腿脚不便,独居", **kw)

    def ask(self, **kw) -> HelpRequest:
        """The citizen (signed in) asks; returns the request."""
        response = self.client.post(f"/help/new?item={self.item.code}", data=self.form(**kw))
        assert response.status_code == 303, response.get_data(as_text=True)
        return db.session.scalars(select(HelpRequest).order_by(HelpRequest.id.desc())).first()

    def as_staff(self, user: User, password: str):
        """A second browser for staff, so the citizen's stays signed in."""
        staff_client = self.app.test_client()
        response = staff_client.post("/staff/login", data={"username": user.username,
                                                           "password": password})
        assert response.status_code == 303
        return staff_client

    def sms(self, template: str, phone: str | None = None) -> list[SmsMessage]:
        query = select(SmsMessage).where(SmsMessage.template == template)
        if phone:
            query = query.where(SmsMessage.phone == phone)
        return list(db.session.scalars(query.order_by(SmsMessage.id)))


PASSWORDS = {"clerk1": "secret-pass-1", "clerk2": "secret-pass-2", "admin1": "secret-pass-3",
             "clerk3": "secret-pass-4"}


@pytest.fixture
def world(app, client, auth):
    return World(app, client, auth)


@pytest.fixture
def as_staff(world):
    def sign_in(user: User):
        return world.as_staff(user, PASSWORDS[user.username])
    return sign_in
