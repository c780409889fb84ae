"""Demo ratings: two months of a hall's ratings, a few bad ones in rectification, and one
served visit that the demo citizen (13800138000) can still rate."""

import random
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import User
from app.catalog.models import Hall, ServiceItem
from app.core.models import audit
from app.core.timeutil import utcnow
from app.extensions import db
from app.ratings.models import Rating, Rectification
from app.ratings.rules import refresh_figures, workday_deadline
from app.ratings.services import new_invite
from app.ratings.states import INDICATORS, CaseStatus

HALL = "乌兰浩特市政务服务中心"


def load_demo() -> None:
    """Add the rows once; a database that already has ratings is left alone."""
    if db.session.scalar(select(Rating.id).limit(1)):
        return
    hall = db.session.scalar(select(Hall).where(Hall.name == HALL))
    if hall is None:
        return
    clerk = db.session.scalar(select(User).where(User.username == "clerk"))
    items = db.session.scalars(select(ServiceItem).order_by(ServiceItem.id).limit(6)).all()
    people = []
    for n in range(1, 6):
        phone = f"1380013801{n}"
        user = db.session.scalar(select(User).where(User.phone == phone)) or User(
            phone=phone, role="citizen")
        db.session.add(user)
        people.append(user)
    db.session.flush()
    rand = random.Random(2026)
    now = utcnow()
    for n in range(160):
        served = now - timedelta(days=rand.randint(1, 60), hours=rand.randint(0, 6))
        item = rand.choice(items)
        window = rand.choice(hall.windows)
        invite = new_invite("onsite" if n % 3 else "online", "booking" if n % 3 else "application",
                            900000 + n, rand.choice(people).id, served, hall.id, item.id,
                            window.id, clerk.id if clerk and n % 2 else None, item.department)
        if rand.random() < 0.2:
            continue  # not rated
        score = rand.choices([5, 4, 3, 2, 1], weights=[60, 22, 8, 6, 4])[0]
        names = list(INDICATORS[invite.channel])
        rating = Rating(invite=invite, score=score, source=rand.choice(["sms", "qr", "app"]),
                        scores={k: max(1, min(5, score + rand.choice([-1, 0, 0, 1])))
                                for k in names},
                        reason=None if score >= 3 else rand.choice(["slow", "unclear", "repeat"]))
        rating.self_initiated = rating.source != "sms"
        rating.created_at = invite.rated_at = served + timedelta(hours=2)
        db.session.add(rating)
        if score <= 2:
            _case(rating, hall.id, served, old=served < now - timedelta(days=10))
        db.session.flush()
        refresh_figures(invite)
    # One visit the demo citizen can rate right now.
    me = db.session.scalar(select(User).where(User.phone == "13800138000"))
    if me and items:
        new_invite("onsite", "booking", 999999, me.id, now - timedelta(minutes=30), hall.id,
                   items[0].id, hall.windows[0].id, clerk.id if clerk else None)


def _case(rating: Rating, hall_id: int, served, old: bool) -> None:
    """Older bad ratings are put right and followed up; recent ones are still open."""
    case = Rectification(rating=rating, hall_id=hall_id, department=rating.invite.department,
                         clerk_id=rating.invite.clerk_id, created_at=served + timedelta(hours=2))
    db.session.add(case)
    db.session.flush()
    audit("rectification", case.id, CaseStatus.OPEN, note="差评",
          public_note="您的意见已转交大厅处理,工作人员将在 1 个工作日内与您联系。"
          ).created_at = case.created_at
    if old:
        case.status, case.plan = CaseStatus.VERIFIED, "simple"
        case.replied_at = case.rectified_at = served + timedelta(days=1)
        case.verified_at = served + timedelta(days=3)
        case.follow_up_satisfied = True
        audit("rectification", case.id, CaseStatus.RECTIFIED, from_status=CaseStatus.CONTACTED,
              note="调整窗口排班", public_note="已在高峰时段增开窗口,并向您致歉。"
              ).created_at = case.rectified_at
    else:
        case.status = CaseStatus.OPEN
        case.due_at = workday_deadline(case.created_at, 1, hall_id)
