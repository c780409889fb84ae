"""Small builders for test data."""

from itertools import count

from app.auth.models import Role, User
from app.catalog.models import Bundle, BundleItem, Hall, Material, ServiceItem, Window
from app.extensions import db

_seq = count(1)


def hall(**kw) -> Hall:
    n = next(_seq)
    row = Hall(name=kw.pop("name", f"测试大厅{n}"), short_name=kw.pop("short_name", f"大厅{n}"),
               address=kw.pop("address", "测试路 1 号"), phone=kw.pop("phone", "0482-0000000"),
               hours=kw.pop("hours", "工作日 9:00-17:00"), **kw)
    db.session.add(row)
    db.session.flush()
    db.session.add(Window(hall=row, code="A01", name="综合窗口", group="A"))
    db.session.commit()
    return row


def item(materials=("居民身份证", "户口簿"), halls=(), **kw) -> ServiceItem:
    n = next(_seq)
    row = ServiceItem(code=kw.pop("code", f"T-{n:03d}"), name=kw.pop("name", f"测试事项{n}"),
                      department=kw.pop("department", "测试局"), topic=kw.pop("topic", "户籍"),
                      **kw)
    row.materials = [Material(name=name, position=i) for i, name in enumerate(materials)]
    row.halls = list(halls)
    db.session.add(row)
    db.session.commit()
    return row


def bundle(items, **kw) -> Bundle:
    n = next(_seq)
    row = Bundle(code=kw.pop("code", f"B-{n:03d}"), name=kw.pop("name", f"测试一件事{n}"), **kw)
    row.entries = [BundleItem(item=i, position=p) for p, i in enumerate(items)]
    db.session.add(row)
    db.session.commit()
    return row


def staff(username: str = "clerk1", password: str = "secret-pass-1", role: str = Role.CLERK,
          hall_row: Hall | None = None) -> User:
    user = User(username=username, role=role, name="测试工作人员", hall=hall_row)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def citizen(phone: str = "13800138000", name: str | None = None) -> User:
    """A citizen who has signed in before: 用户服务协议 and 隐私政策 agreed."""
    from app.auth import consent

    user = User(phone=phone, role=Role.CITIZEN, name=name)
    db.session.add(user)
    db.session.flush()
    consent.record(user.id, consent.AT_SIGN_IN)
    db.session.commit()
    return user


class FakeMatters:
    """A progress matter kind backed by a dict, with real AuditLog rows for its timeline."""

    def __init__(self, kind: str = "testcase"):
        self.kind, self.rows = kind, {}

    def add(self, owner: User, steps=("您的办件已提交",), number: str | None = None,
            completed: bool = False, status=("办理中", "info"), created_at=None,
            hall_id: int | None = None):
        from datetime import timedelta

        from app.core.models import audit
        from app.core.timeutil import utcnow
        from app.progress.registry import MatterSummary

        n = next(_seq) + 1000
        start = created_at or utcnow() - timedelta(days=1)
        matter = MatterSummary(
            kind=self.kind, id=n, number=number or f"TC{n:08d}", title=f"测试事项{n}",
            status_label=status[0], status_tone=status[1], citizen_id=owner.id,
            phone=owner.phone, created_at=start, next_step="请留意短信通知,无需到场。",
            contact_phone="0482-8260000", hall_name="测试政务服务中心", completed=completed,
            hall_id=hall_id)
        self.rows[n] = matter
        for i, note in enumerate(steps):
            audit(self.kind, n, f"step{i}", public_note=note).created_at = (
                start + timedelta(minutes=i + 1))
        db.session.commit()
        return matter

    def register(self):
        from app.progress.registry import register_matter_kind

        register_matter_kind(
            kind=self.kind, label="测试件", get=self.rows.get,
            list_for_user=lambda uid: [m for m in self.rows.values() if m.citizen_id == uid],
            find_by_number=lambda no: next((m for m in self.rows.values() if m.number == no),
                                           None))
        return self


def sign_in(client, user: User) -> None:
    """Sign `user` in on this test client without the sign-in pages (tests/auth covers those):
    a real sign-in row (app/auth/sessions.py), its value in the session cookie."""
    from app.auth import consent
    from app.auth.sessions import issue

    value = issue(user)
    if not user.is_staff:  # as the sign-in page records it: 用户服务协议 and 隐私政策 agreed
        consent.record(user.id, consent.AT_SIGN_IN)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = value
        session["_fresh"] = True
