"""Demo slot rules so a fresh `make run` can book at once.

Every bookable demo item opens weekday mornings and afternoons at its halls, and the 乌兰浩特 hall
keeps its Saturday-morning extended service.
"""

from datetime import time

from sqlalchemy import select

from app.booking.models import SlotRule
from app.catalog.models import ServiceItem
from app.extensions import db

MORNING, AFTERNOON = (time(8, 30), time(12, 0)), (time(14, 0), time(17, 30))
SATURDAY_HALL = "乌兰浩特市政务服务中心"


def load_demo() -> None:
    """Add the rules once; a database that already has rules is left alone."""
    if db.session.scalar(select(SlotRule.id).limit(1)):
        return
    items = db.session.scalars(select(ServiceItem).where(
        ServiceItem.bookable.is_(True), ServiceItem.retired_at.is_(None))).all()
    for item in items:
        for hall in item.halls:
            windows = [w for w in item.windows if w.hall_id == hall.id]
            group = windows[0].group if windows else "A"
            days = list(range(5)) + ([5] if hall.name == SATURDAY_HALL else [])
            for weekday in days:
                spans = [MORNING] if weekday == 5 else [MORNING, AFTERNOON]
                for start, end in spans:
                    db.session.add(SlotRule(hall_id=hall.id, item_id=item.id, weekday=weekday,
                                            start=start, end=end, slot_minutes=30, capacity=4,
                                            window_group=group))
    db.session.flush()
