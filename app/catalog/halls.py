"""Halls and their windows: finding them, saving them, and closing a window for the day.

Halls are the city's and windows a hall's; who may change which is checked by the pages
(app/catalog/places.py) through app/core/access.py before these are called.
"""

from sqlalchemy import select

from app.catalog.models import Hall, ServiceItem, Window, item_hall
from app.core.models import audit
from app.core.timeutil import local_today
from app.extensions import db


def hall_by_id(hall_id: int) -> Hall | None:
    return db.session.get(Hall, hall_id)


def window_by_id(window_id: int) -> Window | None:
    return db.session.get(Window, window_id)


def first_hall() -> Hall | None:
    """The hall added first."""
    return db.session.scalar(select(Hall).order_by(Hall.id).limit(1))


def list_halls(hall_id: int | None = None) -> list[Hall]:
    """Every hall in the order they were added, or only `hall_id`'s when given."""
    query = select(Hall).order_by(Hall.id)
    if hall_id is not None:
        query = query.where(Hall.id == hall_id)
    return list(db.session.scalars(query))


def hall_named(name: str) -> int | None:
    """The id of the hall with this name, if any (names are unique)."""
    return db.session.scalar(select(Hall.id).where(Hall.name == name))


def window_numbered(hall: Hall, code: str) -> int | None:
    """The id of the hall's window with this number, if any."""
    return db.session.scalar(select(Window.id).where(Window.hall_id == hall.id,
                                                     Window.code == code))


def hall_items(hall: Hall) -> list[ServiceItem]:
    """The items this hall handles, which its windows may serve."""
    return list(db.session.scalars(select(ServiceItem).join(
        item_hall, item_hall.c.item_id == ServiceItem.id).where(
        item_hall.c.hall_id == hall.id, ServiceItem.retired_at.is_(None)).order_by(
        ServiceItem.code)))


def save_hall(hall: Hall | None, data: dict, actor_id: int) -> Hall:
    if hall is None:
        hall = Hall()
        db.session.add(hall)
    for key, value in data.items():
        setattr(hall, key, value)
    db.session.flush()
    audit("hall", hall.id, "saved", actor_id=actor_id, note=hall.name)
    db.session.commit()
    return hall


def save_window(hall: Hall, window: Window | None, data: dict, actor_id: int) -> Window:
    if window is None:
        window = Window(hall=hall)
        db.session.add(window)
    window.code, window.name, window.group = data["code"], data["name"], data["group"]
    chosen = set(data["item_ids"])
    offered = hall_items(hall)
    window.items = [i for i in offered if i.id in chosen] + [
        i for i in window.items if i not in offered]  # items no longer the hall's stay
    db.session.flush()
    audit("window", window.id, "saved", actor_id=actor_id, note=f"{window.code} {window.name}")
    db.session.commit()
    return window


def set_open_today(window: Window, open_: bool, actor_id: int) -> None:
    """Close a window for today (it opens again tomorrow by itself), or open it again."""
    window.closed_on = None if open_ else local_today()
    audit("window", window.id, "opened" if open_ else "closed_today", actor_id=actor_id,
          note=f"{window.code} {window.name}")
    db.session.commit()
