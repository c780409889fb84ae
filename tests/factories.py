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
    user = User(phone=phone, role=Role.CITIZEN, name=name)
    db.session.add(user)
    db.session.commit()
    return user
