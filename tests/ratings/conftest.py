"""A hall with an item, a clerk, an admin and a citizen, and invites made through the contract."""

from datetime import timedelta

import pytest

from app.core.timeutil import utcnow
from app.extensions import db
from app.ratings import services
from factories import citizen, hall, item, sign_in, staff


class World:
    def __init__(self, app):
        self.app = app
        self.hall = hall()
        self.other_hall = hall()
        self.window = self.hall.windows[0]
        self.item = item(halls=[self.hall], department="公安局")
        self.clerk = staff("clerk1", "secret-pass-1", "clerk", self.hall)
        self.admin = staff("admin1", "secret-pass-2", "admin", self.hall)
        self.other_clerk = staff("clerk2", "secret-pass-3", "clerk", self.other_hall)
        self.citizen = citizen("13800138000", "张三")
        self._n = 0

    def invite(self, who=None, served_at=None, channel="onsite", **kw):
        """An invite as the booking or application feature would create it."""
        self._n += 1
        with self.app.test_request_context():
            row = services.invite(
                channel=channel, entity=kw.pop("entity", "booking"),
                entity_id=kw.pop("entity_id", self._n), citizen_id=(who or self.citizen).id,
                served_at=served_at or utcnow() - timedelta(minutes=5), hall_id=self.hall.id,
                item_id=self.item.id, window_id=self.window.id, clerk_id=self.clerk.id, **kw)
            db.session.commit()
        return row

    @staticmethod
    def rate(client, invite, score, **form):
        """Two taps: a face, then 提交评价 (with whatever else the form carries)."""
        assert client.get(f"/ratings/{invite.id}/details?score={score}").status_code == 200
        return client.post(f"/ratings/{invite.id}", data={"score": score, **form})


@pytest.fixture
def world(app):
    return World(app)


@pytest.fixture
def citizen_client(app, world):
    """The citizen's own phone, already signed in (the sign-in itself is tested in tests/auth;
    codes are limited to one a minute, and this phone signs in next to the staff's)."""
    client = app.test_client()
    sign_in(client, world.citizen)
    return client
