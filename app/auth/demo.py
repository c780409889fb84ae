"""Demo accounts: staff with known passwords (the README lists them) and the demo citizen 张三."""

from sqlalchemy import select

from app.auth.models import User
from app.catalog.models import Hall
from app.extensions import db

DEMO_ACCOUNTS = [
    # (username, password, role, hall name (None: city-wide), display name); README lists them
    ("clerk", "clerk-demo-2026", "clerk", "乌兰浩特市政务服务中心", "王丽(综合窗口)"),
    ("admin", "admin-demo-2026", "admin", "乌兰浩特市政务服务中心", "李强(大厅管理员)"),
    ("clerk2", "clerk2-demo-2026", "clerk", "科尔沁右翼前旗政务服务中心", "孙杰(科右前旗窗口)"),
    ("admin2", "admin2-demo-2026", "admin", "科尔沁右翼前旗政务服务中心", "赵刚(科右前旗管理员)"),
    ("city", "city-demo-2026", "admin", None, "周敏(市级管理员)"),
]
DEMO_CITIZEN = "13800138000"


def load_accounts() -> None:
    """After the demo catalog (its halls): the staff accounts, their passwords reset, and 张三."""
    for username, password, role, hall_name, name in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.username == username)) or User(
            username=username)
        user.role, user.name = role, name
        user.hall = db.session.scalar(select(Hall).where(Hall.name == hall_name)) if (
            hall_name) else None
        user.set_password(password)
        db.session.add(user)
    if not db.session.scalar(select(User).where(User.phone == DEMO_CITIZEN)):
        db.session.add(User(phone=DEMO_CITIZEN, role="citizen", name="张三"))
