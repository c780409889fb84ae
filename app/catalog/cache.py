"""An in-process, read-only copy of the catalog for the public pages.

The catalog is a few hundred rows that change a few times a day, while every guide, search and
home page reads it. Each web worker keeps the whole catalog in memory and searches it in Python
(so Chinese substring search behaves the same on SQLite and PostgreSQL), and rebuilds the copy when
the `catalog_revision` counter moves. Every ORM write to a catalog table bumps that counter in the
same transaction (see `_after_flush`), so an admin's edit shows at once in the worker that made it
and within CATALOG_CACHE_SECONDS in the others.

Views (popularity) are counted in memory and written every VIEW_FLUSH_SECONDS, so a guide page does
no write per view; a worker that dies loses at most those seconds of counts.

The cached rows are detached from any session: they are for rendering only. Code that links a new
row to an item (a booking, an application) must load it with services.get_item() instead.
"""

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session, selectinload

from app.catalog.models import (
    Bundle,
    BundleItem,
    CatalogRevision,
    Hall,
    Material,
    ServiceItem,
    Window,
)
from app.extensions import db

CATALOG_MODELS = (Hall, Window, ServiceItem, Material, Bundle, BundleItem)
BUMP = text("INSERT INTO catalog_revision (id, version) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET version = catalog_revision.version + 1")


@dataclass
class Snapshot:
    """The whole catalog at one revision, indexed for the public pages."""

    version: int | None
    items: dict[str, ServiceItem]
    bundles: dict[str, Bundle]
    ranked: list[ServiceItem] = field(default_factory=list)
    # (item, topic, audience, search text) in ranked order: plain values, cheap to filter
    rows: list[tuple] = field(default_factory=list)
    item_text: dict[int, str] = field(default_factory=dict)
    bundle_text: dict[int, str] = field(default_factory=dict)
    bundles_of: dict[int, list[Bundle]] = field(default_factory=dict)
    topic_counts: dict[str, int] = field(default_factory=dict)
    views_at: float = 0.0
    ranking: str = ""  # the ranked order in short, for the public pages' ETag
    # Rendered HTML that depends only on this snapshot (never on the visitor), by key.
    fragments: dict = field(default_factory=dict)

    @property
    def active_bundles(self) -> list[Bundle]:
        return sorted((b for b in self.bundles.values() if b.retired_at is None),
                      key=lambda b: b.id)


class _State:
    """Per app: the snapshot, when the revision was last checked, and uncounted views."""

    def __init__(self):
        self.lock = threading.Lock()
        self.snapshot: Snapshot | None = None
        self.checked_at = 0.0
        self.views: Counter = Counter()
        self.views_since: float | None = None


def init_app(app) -> None:
    """The app's copy; its timings are settings (app/config.py: CATALOG_TIMINGS)."""
    app.extensions["catalog_cache"] = _State()
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
        event.listen(Session, "before_attach", _refuse_cached)


def _state() -> _State:
    return current_app.extensions["catalog_cache"]


def _after_flush(session, _context) -> None:
    changed = session.new | session.dirty | session.deleted
    if any(isinstance(row, CATALOG_MODELS) for row in changed):
        session.connection().execute(BUMP)
        session.info["catalog_changed"] = True


def _after_commit(session) -> None:
    if session.info.pop("catalog_changed", False):
        try:
            state = _state()
        except (RuntimeError, KeyError):  # outside an app, or an app without the catalog
            return
        state.snapshot = None


CACHED = "from_catalog_cache"  # marks a cached row in its InstanceState.info


def _refuse_cached(_session, row) -> None:
    """A cached row put into a session would be shared, expired and reloaded across requests."""
    if inspect(row).info.get(CACHED):
        raise RuntimeError(f"{row!r} comes from the catalog cache and is read-only; "
                           "load it with app.catalog.services.get_item() / get_bundle()")


def _after_rollback(session, _previous) -> None:
    session.info.pop("catalog_changed", None)


def snapshot() -> Snapshot:
    """The current catalog: rebuilt when the revision moved, re-ranked now and then."""
    state, config = _state(), current_app.config
    now = time.monotonic()
    snap = state.snapshot
    if snap is None or now - state.checked_at >= config["CATALOG_CACHE_SECONDS"]:
        version = db.session.scalar(select(CatalogRevision.version).where(CatalogRevision.id == 1))
        if snap is None or snap.version != version:
            with state.lock:
                snap = _build(version)
            state.snapshot = snap
        state.checked_at = now
    if now - snap.views_at >= config["POPULAR_REFRESH_SECONDS"]:
        _rank(snap, dict(db.session.execute(select(ServiceItem.id, ServiceItem.views)).all()))
        snap.views_at = now
    return snap


def _build(version: int | None) -> Snapshot:
    with Session(db.engine) as session:
        items = session.scalars(select(ServiceItem).options(
            selectinload(ServiceItem.materials),
            selectinload(ServiceItem.halls).selectinload(Hall.windows),
            selectinload(ServiceItem.windows))).all()
        bundles = session.scalars(select(Bundle).options(
            selectinload(Bundle.entries).joinedload(BundleItem.item))).all()
        session.expunge_all()
    for row in [*items, *bundles, *(m for i in items for m in i.materials),
                *(h for i in items for h in i.halls), *(w for i in items for w in i.windows),
                *(w for i in items for h in i.halls for w in h.windows),
                *(e for b in bundles for e in b.entries)]:
        inspect(row).info[CACHED] = True  # the row's ORM state, not its attributes
    snap = Snapshot(version, {i.code: i for i in items}, {b.code: b for b in bundles})
    for item in items:
        snap.item_text[item.id] = "\n".join((item.name, item.keywords or "", item.department,
                                             item.summary or "", item.code)).casefold()
    for bundle in snap.active_bundles:
        snap.bundle_text[bundle.id] = "\n".join((bundle.name, bundle.keywords or "",
                                                 bundle.summary or "")).casefold()
        for item in bundle.items:
            snap.bundles_of.setdefault(item.id, []).append(bundle)
    snap.topic_counts = dict(Counter(i.topic for i in items if i.retired_at is None))
    _rank(snap, {i.id: i.views for i in items})
    snap.views_at = time.monotonic()
    return snap


def _rank(snap: Snapshot, views: dict[int, int]) -> None:
    active = [i for i in snap.items.values() if i.retired_at is None]
    snap.ranked = sorted(active, key=lambda i: (-views.get(i.id, 0), i.id))
    snap.rows = [(i, i.topic, i.audience, snap.item_text[i.id]) for i in snap.ranked]
    snap.ranking = hashlib.blake2b(",".join(str(i.id) for i in snap.ranked).encode(),
                                   digest_size=8).hexdigest()
    snap.fragments = {}  # lists in them follow the ranking


MAX_FRAGMENTS = 2000


def fragment(key: tuple, build) -> str:
    """HTML for `key` rendered once per snapshot: a guide body, a page of search results."""
    fragments = snapshot().fragments
    html = fragments.get(key)
    if html is None:
        html = build()
        if len(fragments) >= MAX_FRAGMENTS:  # many different searches: start over
            fragments.clear()
        fragments[key] = html
    return html


def count_view(item_id: int) -> None:
    """Count a guide view; written to the database in batches."""
    state = _state()
    state.views[item_id] += 1
    if state.views_since is None:
        state.views_since = time.monotonic()
    if time.monotonic() - state.views_since >= current_app.config["VIEW_FLUSH_SECONDS"]:
        flush_views()


def flush_views() -> None:
    """Add the counted views to the items, in one short transaction."""
    state = _state()
    with state.lock:
        pending, state.views, state.views_since = state.views, Counter(), None
    if not pending:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        # A lost view count after a crash is harmless; waiting for the WAL flush is not.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    for item_id, n in sorted(pending.items()):
        db.session.execute(ServiceItem.__table__.update().where(ServiceItem.id == item_id)
                           .values(views=ServiceItem.views + n))
    db.session.commit()
