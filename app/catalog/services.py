"""Finding service items and bundles, merging a bundle's checklist, and the recently viewed list."""

import re
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.catalog import cache
from app.catalog.models import Bundle, BundleItem, Hall, Material, ServiceItem, Window
from app.core.models import audit
from app.core.timeutil import utcnow
from app.extensions import db
from app.reading import examples

TOPICS = ("户籍", "不动产", "市场主体", "社保", "医保", "卫生健康", "消防", "交通出行", "教育",
          "民政婚姻", "税务", "其他")
RECENT_COOKIE = "recent"
RECENT_MAX = 6
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _words(q: str) -> list[str]:
    return q.casefold().split()[:5]


def search_items(q: str = "", topic: str = "", audience: str = "", limit: int = 50):
    """Active items with every word in name, keywords, department, summary or code; most viewed
    first.

    A substring match over the in-memory catalog: it needs no word segmentation, so Chinese works
    the same whichever database is underneath.
    """
    rows = cache.snapshot().rows
    for word in _words(q):  # one tight pass per word: this runs on every keystroke
        rows = [r for r in rows if word in r[3]]
    if topic:
        rows = [r for r in rows if r[1] == topic]
    if audience:
        rows = [r for r in rows if r[2] == audience]
    return [r[0] for r in rows[:limit]]


def search_bundles(q: str = "", audience: str = ""):
    """Active bundles with every word in name, keywords or summary."""
    snap, words = cache.snapshot(), _words(q)
    return [b for b in snap.active_bundles if (not audience or b.audience == audience)
            and all(w in snap.bundle_text[b.id] for w in words)]


def cached_item(code: str) -> ServiceItem | None:
    """An item for its guide page, retired ones included (old applications link to them)."""
    return cache.snapshot().items.get(code)


def cached_bundle(code: str) -> Bundle | None:
    """A bundle for its guide page, retired ones included."""
    return cache.snapshot().bundles.get(code)


def bundles_of(item: ServiceItem) -> list[Bundle]:
    """The active bundles an item takes part in."""
    return cache.snapshot().bundles_of.get(item.id, [])


def popular_items(limit: int = 6) -> list[ServiceItem]:
    """The most viewed active items."""
    return cache.snapshot().ranked[:limit]


def active_bundles(limit: int | None = None) -> list[Bundle]:
    """Active bundles in the order they were made."""
    return cache.snapshot().active_bundles[:limit]


def count_view(item: ServiceItem) -> None:
    """Popularity: one more view of this item."""
    cache.count_view(item.id)


def topic_counts() -> dict[str, int]:
    """How many active items each topic has."""
    return cache.snapshot().topic_counts


def browse_topics() -> list[str]:
    """The fixed topics, then any other topic the catalog has."""
    extra = set(cache.snapshot().topic_counts) - set(TOPICS)
    return list(TOPICS) + sorted(extra)


def get_item(code: str) -> ServiceItem | None:
    """An item by code in the current session, retired ones included (for linking rows to it)."""
    return db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))


def get_bundle(code: str) -> Bundle | None:
    """A bundle by code in the current session, retired ones included."""
    return db.session.scalar(select(Bundle).where(Bundle.code == code))


@dataclass
class MergedMaterial:
    """One line of a bundle's checklist: a material named by one or more of its items."""

    name: str
    original: bool
    copies: int
    photo_ok: bool
    may_be_missing: bool
    notes: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    document_kind: str | None = None  # 智能预审: the first item's that names one
    source_id: int | None = None  # the catalog material whose example photo is shown
    has_example: bool = False
    licence_type: str | None = None  # 免提交: the licence type that stands in for it

    @property
    def form_label(self) -> str:
        return f"{'原件' if self.original else '复印件'} {self.copies} 份"


def _material_key(name: str) -> str:
    """Names that differ only in spacing or brackets are the same paper."""
    return re.sub(r"[\s()()【】\[\]]", "", name)


def merge_materials(items: list[ServiceItem]) -> list[MergedMaterial]:
    """One de-duplicated list: the strictest form wins (an original over a copy, most copies)."""
    merged: dict[str, MergedMaterial] = {}
    for item in items:
        for m in item.active_materials:
            line = merged.get(_material_key(m.name))
            if line is None:
                line = merged[_material_key(m.name)] = MergedMaterial(
                    m.name, m.original, m.copies, m.photo_ok, m.may_be_missing)
            else:
                line.original = line.original or m.original
                line.copies = max(line.copies, m.copies)
                line.photo_ok = line.photo_ok and m.photo_ok
                line.may_be_missing = line.may_be_missing and m.may_be_missing
            if m.notes and m.notes not in line.notes:
                line.notes.append(m.notes)
            line.document_kind = line.document_kind or m.document_kind
            line.licence_type = line.licence_type or m.licence_type
            if line.source_id is None or (m.example_key and not line.has_example):
                line.source_id, line.has_example = m.id, bool(m.example_key)
            if item.name not in line.items:
                line.items.append(item.name)
    return list(merged.values())


def bundle_items(bundle: Bundle) -> list[ServiceItem]:
    """The bundle's items that are still handled."""
    return [i for i in bundle.items if i.retired_at is None]


def departments(items: list[ServiceItem]) -> list[str]:
    """The departments taking part, in the order their items come."""
    return list(dict.fromkeys(i.department for i in items))


def recent_keys(cookie: str | None) -> list[str]:
    """The recently viewed list kept in a cookie: `i:CODE` for items, `b:CODE` for bundles.

    Dot-separated, because a comma would make the cookie value quoted."""
    keys = []
    for key in (cookie or "").split("."):
        kind, _, code = key.partition(":")
        if kind in ("i", "b") and _CODE_RE.match(code) and key not in keys:
            keys.append(key)
    return keys[:RECENT_MAX]


def remember(cookie: str | None, key: str) -> str:
    """The cookie value with `key` moved to the front."""
    return ".".join([key] + [k for k in recent_keys(cookie) if k != key][:RECENT_MAX - 1])


def recently_viewed(cookie: str | None) -> list[ServiceItem | Bundle]:
    """Items and bundles from the cookie, newest first, skipping retired or unknown ones."""
    snap, found = cache.snapshot(), []
    for key in recent_keys(cookie):
        row = (snap.items if key[0] == "i" else snap.bundles).get(key[2:])
        if row is not None and row.retired_at is None:
            found.append(row)
    return found



# Admin edits. Nothing is ever deleted: applications keep pointing at retired rows.

class CodeTaken(ValueError):
    """Another item or bundle already has this code."""


ITEM_COLUMNS = ("code", "name", "department", "audience", "topic", "summary", "keywords",
                "legal_days", "promised_days", "fee", "visits", "steps", "legal_basis", "phone",
                "bookable", "prereview", "fully_online", "courier",
                "licence_type", "licence_years")


def item_by_id(item_id: int) -> ServiceItem | None:
    return db.session.get(ServiceItem, item_id)


def material_by_id(material_id: int) -> Material | None:
    return db.session.get(Material, material_id)


def bundle_by_id(bundle_id: int) -> Bundle | None:
    return db.session.get(Bundle, bundle_id)


def items_by_ids(item_ids: list[int]) -> list[ServiceItem]:
    return list(db.session.scalars(select(ServiceItem).where(ServiceItem.id.in_(item_ids))))


def all_topics() -> list[str]:
    """The fixed topics, then any other topic an import brought in."""
    extra = db.session.scalars(select(ServiceItem.topic).distinct()).all()
    return list(TOPICS) + sorted(t for t in set(extra) - set(TOPICS) if t)


def hall_places(item: ServiceItem | None, hall_id: int,
                window_ids: list[int]) -> tuple[list[int], list[int]]:
    """The halls and windows an item gets from an admin of `hall_id`: always their own hall, with
    the windows they ticked in it; other halls and their windows stay as they were."""
    own = set(db.session.scalars(select(Window.id).where(Window.hall_id == hall_id)))
    halls = {hall_id} | {h.id for h in (item.halls if item else [])}
    windows = [w for w in window_ids if w in own]
    windows += [w.id for w in (item.windows if item else []) if w.hall_id != hall_id]
    return sorted(halls), windows


def save_item(item: ServiceItem | None, data: dict, actor_id: int) -> ServiceItem:
    """Create or update an item; raises CodeTaken when the code belongs to another item."""
    clash = db.session.scalar(select(ServiceItem.id).where(ServiceItem.code == data["code"]))
    if clash and (item is None or clash != item.id):
        db.session.rollback()  # the form is shown again from a clean session
        raise CodeTaken(data["code"])
    if item is None:
        item = ServiceItem()
        db.session.add(item)
    for key in ITEM_COLUMNS:
        setattr(item, key, data[key])
    item.halls = db.session.scalars(select(Hall).where(Hall.id.in_(data["hall_ids"]))).all()
    # A window only makes sense in a hall that handles the item.
    item.windows = db.session.scalars(select(Window).where(
        Window.id.in_(data["window_ids"]), Window.hall_id.in_(data["hall_ids"]))).all()
    db.session.flush()
    _audit("service_item", item.id, "saved", actor_id)
    db.session.commit()
    return item


def set_retired(row, retired: bool, actor_id: int, entity: str) -> None:
    """Retire or bring back an item, material or bundle; the row itself stays."""
    was = "retired" if row.retired_at else "active"
    row.retired_at = utcnow() if retired else None
    _audit(entity, row.id, "retired" if retired else "active", actor_id, from_status=was)
    db.session.commit()


def save_material(item: ServiceItem, material: Material | None, data: dict,
                  actor_id: int) -> Material:
    """Add a material at the end of an item's list, or update one."""
    if material is None:
        material = Material(position=len(item.materials))
        item.materials.append(material)
    for key, value in data.items():
        setattr(material, key, value)
    db.session.flush()
    _audit("material", material.id, "saved", actor_id)
    db.session.commit()
    return material


def save_example(material: Material, data: bytes | None, remove: bool) -> None:
    """Give a material a new 示例图 (or none); the old files go once the change is committed."""
    old = examples.replace(material, data, remove)
    db.session.commit()
    examples.delete(old)


def move_material(material: Material, step: int) -> None:
    """Move a material one place up (-1) or down (+1) among its item's active materials."""
    active = material.item.active_materials
    at = active.index(material)
    other = at + step
    if 0 <= other < len(active):
        active[at], active[other] = active[other], active[at]
        for position, m in enumerate(active):
            m.position = position
        db.session.commit()


def save_bundle(bundle: Bundle | None, data: dict, actor_id: int) -> Bundle:
    """Create or update a bundle with its items in the order given."""
    clash = db.session.scalar(select(Bundle.id).where(Bundle.code == data["code"]))
    if clash and (bundle is None or clash != bundle.id):
        db.session.rollback()  # the form is shown again from a clean session
        raise CodeTaken(data["code"])
    if bundle is None:
        bundle = Bundle()
        db.session.add(bundle)
    for key in ("code", "name", "summary", "keywords", "audience"):
        setattr(bundle, key, data[key])
    items = {i.id: i for i in db.session.scalars(
        select(ServiceItem).where(ServiceItem.id.in_(data["item_ids"])))}
    bundle.entries.clear()
    db.session.flush()
    bundle.entries.extend(BundleItem(item=items[i], position=n)
                          for n, i in enumerate(data["item_ids"]) if i in items)
    db.session.flush()
    _audit("bundle", bundle.id, "saved", actor_id)
    db.session.commit()
    return bundle


def _audit(entity: str, entity_id: int, to_status: str, actor_id: int, from_status=None):
    audit(entity, entity_id, to_status, actor_id=actor_id, from_status=from_status)


def list_admin_items(q: str = "", show: str = "active"):
    """Items for the admin list, searched like the public list, retired ones on request."""
    stmt = select(ServiceItem).options(selectinload(ServiceItem.materials),
                                       selectinload(ServiceItem.halls))
    for word in _words(q):
        stmt = stmt.where(or_(ServiceItem.name.icontains(word, autoescape=True),
                              ServiceItem.code.icontains(word, autoescape=True),
                              ServiceItem.department.icontains(word, autoescape=True)))
    if show == "retired":
        stmt = stmt.where(ServiceItem.retired_at.is_not(None))
    elif show != "all":
        stmt = stmt.where(ServiceItem.retired_at.is_(None))
    return db.session.scalars(stmt.order_by(ServiceItem.topic, ServiceItem.code)).all()


def list_admin_bundles() -> list[Bundle]:
    """Every bundle with its items and their halls, retired ones last."""
    return list(db.session.scalars(select(Bundle).options(
        selectinload(Bundle.entries).selectinload(BundleItem.item)
        .selectinload(ServiceItem.halls)).order_by(Bundle.retired_at.is_not(None), Bundle.id)))


def bundleable_items() -> list[ServiceItem]:
    """The active items a bundle may be made of, with their halls."""
    return list(db.session.scalars(select(ServiceItem).options(
        selectinload(ServiceItem.halls)).where(ServiceItem.retired_at.is_(None)).order_by(
        ServiceItem.topic, ServiceItem.code)))
