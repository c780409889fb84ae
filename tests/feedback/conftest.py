"""Two halls, items of two departments, a clerk per department, the hall admins, two citizens."""

import pytest
from sqlalchemy import select

from app.auth.models import StaffDepartment
from app.extensions import db
from app.sms.models import SmsMessage
from factories import citizen, hall, item, sign_in, staff


class World:
    def __init__(self, app):
        self.app = app
        self.hall = hall(short_name="乌兰浩特大厅")
        self.other_hall = hall(short_name="前旗大厅")
        self.item = item(halls=[self.hall], department="公安局户政管理部门", name="户口迁移",
                         phone="0482-8260001")
        self.both = item(halls=[self.hall, self.other_hall], department="人力资源和社会保障局",
                         name="社保卡挂失")
        self.other_item = item(halls=[self.other_hall], department="公安局户政管理部门",
                               name="前旗户口登记")
        self.clerk = staff("clerk1", "secret-pass-1", "clerk", self.hall)
        self.clerk.name = "王丽"
        self.other_clerk = staff("clerk2", "secret-pass-2", "clerk", self.hall)
        self.admin = staff("admin1", "secret-pass-3", "admin", self.hall)
        self.admin.phone = "13900139000"
        self.other_admin = staff("admin2", "secret-pass-4", "admin", self.other_hall)
        self.other_admin.phone = "13900139001"
        db.session.add_all([StaffDepartment(user_id=self.clerk.id, department="公安局户政管理部门"),
                            StaffDepartment(user_id=self.other_clerk.id,
                                            department="人力资源和社会保障局")])
        self.citizen = citizen("13800138000", "张三")
        self.stranger = citizen("13800138001", "李四")
        db.session.commit()

    def client_for(self, user):
        """A browser already signed in as this person (sign-in itself is tested in tests/auth)."""
        client = self.app.test_client()
        sign_in(client, user)
        return client

    @staticmethod
    def sms(template: str, phone: str | None = None) -> list[SmsMessage]:
        query = select(SmsMessage).where(SmsMessage.template == template)
        if phone:
            query = query.where(SmsMessage.phone == phone)
        return list(db.session.scalars(query.order_by(SmsMessage.id)))


@pytest.fixture
def world(app):
    return World(app)


@pytest.fixture
def me(world):
    return world.client_for(world.citizen)
