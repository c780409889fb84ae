"""Finding service items and bundles."""

from sqlalchemy import func, or_, select

from app.catalog.models import Bundle, ServiceItem
from app.extensions import db

TOPICS = ("户籍", "不动产", "市场主体", "社保", "医保", "卫生健康", "消防")


def search_items(q: str = "", topic: str = "", audience: str = "", limit: int = 50):
    """Active items matching words in name, keywords, department or summary."""
    stmt = select(ServiceItem).where(ServiceItem.retired_at.is_(None))
    for word in q.split()[:5]:
        like = f"%{word}%"
        stmt = stmt.where(or_(ServiceItem.name.like(like), ServiceItem.keywords.like(like),
                              ServiceItem.department.like(like), ServiceItem.summary.like(like)))
    if topic:
        stmt = stmt.where(ServiceItem.topic == topic)
    if audience:
        stmt = stmt.where(ServiceItem.audience == audience)
    return db.session.scalars(stmt.order_by(ServiceItem.views.desc(), ServiceItem.id)
                              .limit(limit)).all()


def search_bundles(q: str = "", audience: str = ""):
    """Active bundles matching words in name or keywords."""
    stmt = select(Bundle).where(Bundle.retired_at.is_(None))
    for word in q.split()[:5]:
        like = f"%{word}%"
        stmt = stmt.where(or_(Bundle.name.like(like), Bundle.keywords.like(like)))
    if audience:
        stmt = stmt.where(Bundle.audience == audience)
    return db.session.scalars(stmt.order_by(Bundle.id)).all()


def get_item(code: str) -> ServiceItem | None:
    """An item by code, retired ones included (old applications link to them)."""
    return db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))


def count_view(item: ServiceItem) -> None:
    """Popularity, counted in SQL so concurrent views don't lose updates."""
    db.session.execute(ServiceItem.__table__.update().where(ServiceItem.id == item.id)
                       .values(views=ServiceItem.views + 1))
    db.session.commit()


def topic_counts() -> dict[str, int]:
    rows = db.session.execute(select(ServiceItem.topic, func.count()).where(
        ServiceItem.retired_at.is_(None)).group_by(ServiceItem.topic)).all()
    return dict(rows)
