"""The national figures, each one aggregate query (GROUP BY in the database, never row loops).

Definitions (each over the services of a date range, by the day the service was delivered):
- 好评率: good ratings (3-5) / ratings;
- 主动评价好评率: the same over self-initiated ratings (given from the window's QR code or the
  app, not from the invitation SMS);
- 未评价率: invites not rated / invites;
- 差评回复率: bad ratings whose case has had a reply (contact logged or explanation) / bad;
- 回访整改率: bad ratings put right and followed up by an admin (verified) / bad;
- 回访整改满意率: cases whose outcome was satisfactory / cases with a known outcome; the outcome is
  the citizen's own rating of the rectification if given (3 and up), else what they said at the
  admin's follow-up;
- 逾期: cases whose clock ran out, now or at any time.
Ratings dismissed on appeal stay on record but count nowhere except as rated invites.
Every figure is one scan of rating_invite, which carries its rating's and case's outcome
(services.refresh_figures keeps it in step), so no query joins.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, literal, or_, select

from app.auth.models import User
from app.catalog.models import Hall, ServiceItem, Window
from app.core.timeutil import utcnow
from app.extensions import db
from app.ratings.models import RatingInvite, Rectification
from app.ratings.states import CLOCKED, GOOD_FROM

Inv, C = RatingInvite, Rectification
DIMENSIONS = {
    "day": ("日期", Inv.served_day),
    "hall": ("大厅", Inv.hall_id),
    "department": ("部门", Inv.department),
    "item": ("事项", Inv.item_id),
    "window": ("窗口", Inv.window_id),
    "clerk": ("工作人员", Inv.clerk_id),
}
FIGURES = [  # key, label, numerator, denominator
    ("good_rate", "好评率", "good", "counted"),
    ("active_good_rate", "主动评价好评率", "active_good", "active"),
    ("unrated_rate", "未评价率", "unrated", "invites"),
    ("reply_rate", "差评回复率", "replied", "bad"),
    ("verify_rate", "回访整改率", "verified", "bad"),
    ("satisfied_rate", "回访整改满意率", "satisfied", "outcome_known"),
]


def _count(condition):
    # COUNT(*) FILTER (WHERE ...): cheaper than SUM(CASE ...) on PostgreSQL; SQLite has it too.
    return func.count().filter(condition)


def _measures():
    counted = and_(Inv.score.is_not(None), Inv.excluded.is_(False))
    bad = and_(counted, Inv.score < GOOD_FROM)
    overdue = or_(Inv.case_overdue_at.is_not(None),
                  and_(Inv.case_status.in_([str(s) for s in CLOCKED]), Inv.case_due_at < utcnow()))
    return [
        func.count(Inv.id).label("invites"),
        _count(Inv.rated_at.is_(None)).label("unrated"),
        _count(counted).label("counted"),
        _count(and_(counted, Inv.score >= GOOD_FROM)).label("good"),
        _count(and_(counted, Inv.self_initiated.is_(True))).label("active"),
        _count(and_(counted, Inv.self_initiated.is_(True), Inv.score >= GOOD_FROM)).label(
            "active_good"),
        _count(bad).label("bad"),
        _count(and_(bad, Inv.case_replied.is_(True))).label("replied"),
        _count(and_(bad, Inv.case_verified.is_(True))).label("verified"),
        _count(and_(bad, Inv.case_outcome_good.is_not(None))).label("outcome_known"),
        _count(and_(bad, Inv.case_outcome_good.is_(True))).label("satisfied"),
        _count(and_(bad, overdue)).label("overdue"),
    ]


@dataclass
class Scope:
    """Which services the figures are over."""

    start: date
    end: date
    hall_id: int | None = None
    department: str | None = None
    item_id: int | None = None
    window_id: int | None = None
    clerk_id: int | None = None

    def where(self):
        conds = [Inv.served_day >= self.start, Inv.served_day <= self.end]
        for column, value in ((Inv.hall_id, self.hall_id), (Inv.department, self.department),
                              (Inv.item_id, self.item_id), (Inv.window_id, self.window_id),
                              (Inv.clerk_id, self.clerk_id)):
            if value not in (None, ""):
                conds.append(column == value)
        return conds


@dataclass
class Row:
    """The counts of one group, with its rates."""

    key: object
    counts: dict
    label: str = ""
    rates: dict = field(default_factory=dict)

    def __post_init__(self):
        self.rates = {k: rate(self.counts[num], self.counts[den]) for k, _, num, den in FIGURES}


def rate(numerator: int, denominator: int) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


def _query(scope: Scope, key_column=None):
    columns = ([key_column.label("key")] if key_column is not None else [literal(0).label("key")])
    query = select(*columns, *_measures()).select_from(Inv).where(*scope.where())
    if key_column is not None:
        query = query.group_by(key_column).order_by(key_column)
    return query


def _rows(query) -> list[Row]:
    names = [m.name for m in _measures()]
    return [Row(key=r.key, counts={n: int(getattr(r, n) or 0) for n in names})
            for r in db.session.execute(query)]


def totals(scope: Scope) -> Row:
    """The figures over the whole scope."""
    rows = _rows(_query(scope))
    return rows[0] if rows else Row(key=None, counts={m.name: 0 for m in _measures()})


def by(scope: Scope, dimension: str) -> list[Row]:
    """The figures per day, hall, department, item, window or clerk."""
    rows = _rows(_query(scope, DIMENSIONS[dimension][1]))
    _label(rows, dimension)
    return rows


def by_many(scope: Scope, dimensions: list[str]) -> dict[str, list[Row]]:
    """Several groupings at once: on PostgreSQL one scan with GROUPING SETS (the dashboard's
    year of a hall in one pass), elsewhere one query per grouping."""
    if db.session.get_bind().dialect.name != "postgresql":
        return {dim: by(scope, dim) for dim in dimensions}
    columns = [DIMENSIONS[dim][1] for dim in dimensions]
    flags = [func.grouping(col).label(f"g{n}") for n, col in enumerate(columns)]
    keys = [col.label(f"k{n}") for n, col in enumerate(columns)]
    query = (select(*keys, *flags, *_measures()).select_from(Inv).where(*scope.where())
             .group_by(func.grouping_sets(*columns)))
    names = [m.name for m in _measures()]
    result: dict[str, list[Row]] = {dim: [] for dim in dimensions}
    for record in db.session.execute(query):
        n = next(i for i in range(len(columns)) if getattr(record, f"g{i}") == 0)
        result[dimensions[n]].append(Row(key=getattr(record, f"k{n}"),
                                         counts={m: int(getattr(record, m) or 0) for m in names}))
    for dim, rows in result.items():
        rows.sort(key=lambda r: (r.key is None, r.key if r.key is not None else 0))
        _label(rows, dim)
    return result


def total_of(rows: list[Row]) -> Row:
    """The whole scope from its daily groups (a sum of at most a few hundred aggregates)."""
    counts = {m.name: 0 for m in _measures()}
    for row in rows:
        for name, value in row.counts.items():
            counts[name] += value
    return Row(key=None, counts=counts)


def _label(rows: list[Row], dimension: str) -> None:
    """Names for the groups, looked up in one query."""
    keys = [r.key for r in rows if r.key is not None]
    names: dict = {}
    if dimension == "hall" and keys:
        names = dict(db.session.execute(select(Hall.id, Hall.short_name).where(
            Hall.id.in_(keys))).all())
    elif dimension == "item" and keys:
        names = dict(db.session.execute(select(ServiceItem.id, ServiceItem.name).where(
            ServiceItem.id.in_(keys))).all())
    elif dimension == "window" and keys:
        names = {i: f"{code} {name}" for i, code, name in db.session.execute(
            select(Window.id, Window.code, Window.name).where(Window.id.in_(keys)))}
    elif dimension == "clerk" and keys:
        names = {i: name or username for i, name, username in db.session.execute(
            select(User.id, User.name, User.username).where(User.id.in_(keys)))}
    for row in rows:
        if dimension in ("day", "department"):
            row.label = str(row.key) if row.key not in (None, "") else "未填写"
        else:
            row.label = names.get(row.key) or ("未指定" if row.key is None else f"#{row.key}")


def monthly(daily: list[Row]) -> list[Row]:
    """Daily groups summed into months (aggregates of aggregates: at most a few hundred)."""
    months: dict[str, dict] = {}
    for row in daily:
        key = f"{row.key:%Y-%m}"
        bucket = months.setdefault(key, dict.fromkeys(row.counts, 0))
        for name, value in row.counts.items():
            bucket[name] += value
    return [Row(key=k, counts=v, label=k) for k, v in sorted(months.items())]


def open_overdue(hall_id: int | None) -> int:
    """Cases whose clock has run out and that are still open, right now."""
    query = select(func.count(C.id)).where(C.status.in_([str(s) for s in CLOCKED]),
                                           C.due_at < utcnow())
    if hall_id is not None:
        query = query.where(C.hall_id == hall_id)
    return db.session.scalar(query) or 0
