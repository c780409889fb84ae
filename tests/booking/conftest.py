"""A hall with two window groups, a bookable item open every day, staff and citizens."""

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.booking import opening, services
from app.booking.models import Booking, Slot, SlotRule
from app.catalog.models import Window
from app.core.timeutil import utcnow
from app.extensions import db
from factories import citizen, hall, item, staff

_HASHES: dict[str, str] = {}


def _staff(username, password, role, hall_row):
    """Staff as the factory makes them, hashing each password once per run (hashing is slow)."""
    if password not in _HASHES:
        _HASHES[password] = staff(username, password, role, hall_row).password_hash
        return db.session.scalar(select(User).where(User.username == username))
    user = User(username=username, role=role, name="测试工作人员", hall=hall_row,
                password_hash=_HASHES[password])
    db.session.add(user)
    db.session.commit()
    return user


class World:
    def __init__(self, app):
        self.app = app
        self.hall = hall()
        db.session.add(Window(hall=self.hall, code="B01", name="不动产窗口", group="B"))
        self.other_hall = hall()
        self.item = item(halls=[self.hall], materials=("居民身份证", "出生医学证明"))
        self.clerk = _staff("clerk1", "secret-pass-1", "clerk", self.hall)
        self.admin = _staff("admin1", "secret-pass-2", "admin", self.hall)
        self.other_clerk = _staff("clerk2", "secret-pass-3", "clerk", self.other_hall)
        self.citizen = citizen("13800138000", "张三")
        self.other = citizen("13900139000", "李四")
        self.rules = [SlotRule(hall_id=self.hall.id, item_id=self.item.id, weekday=d,
                               start=time(9, 0), end=time(11, 0), slot_minutes=30, capacity=2)
                      for d in range(7)]
        db.session.add_all(self.rules)
        db.session.commit()

    @property
    def tomorrow(self) -> date:
        with self.app.test_request_context():
            return services.local_today() + timedelta(days=1)

    def slots(self, day: date | None = None) -> list[Slot]:
        with self.app.test_request_context():
            return opening.ensure_slots(self.hall.id, self.item.id, day or self.tomorrow)

    def slot(self, n: int = 0, day: date | None = None) -> Slot:
        return self.slots(day)[n]

    def soon_slot(self, minutes: int) -> Slot:
        """A slot starting `minutes` from now, on today's rule."""
        now = utcnow()
        with self.app.test_request_context():
            today = services.local_today()
        rule = next(r for r in self.rules if r.weekday == today.weekday())
        row = Slot(rule_id=rule.id, hall_id=self.hall.id, item_id=self.item.id, day=today,
                   starts_at=now + timedelta(minutes=minutes),
                   ends_at=now + timedelta(minutes=minutes + 30), capacity=2, window_group="A")
        db.session.add(row)
        db.session.commit()
        return row

    def book(self, client, slot, idem="k1", **form):
        return client.post(f"/book/slot/{slot.id}", data={"idem": idem, **form})

    def booking(self, **where) -> Booking:
        return db.session.scalars(select(Booking).filter_by(**where).order_by(Booking.id)).all()

    def past(self, booking: Booking, hours: float = 1) -> None:
        """Move a booking's slot into the past (as if time went by)."""
        shift = booking.ends_at - utcnow() + timedelta(hours=hours)
        booking.starts_at -= shift
        booking.ends_at -= shift
        db.session.commit()


@pytest.fixture
def world(app):
    return World(app)


def naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None)
