"""A hall admin's import: it may change only what that admin could change by hand.

Rather than foresee what each row would do, the rows are written in the open transaction and the
catalog is compared before and after: a row may leave anything outside the admin's hall exactly as
it was (so an exported file comes back unchanged), and only changes what that admin could change
by hand on the admin pages.
"""

import copy

from sqlalchemy import select

from app.catalog import fields as form_fields
from app.catalog.filecheck import (
    BUNDLE_FIELDS,
    HALL_FIELDS,
    ITEM_FIELDS,
    MATERIAL_FIELDS,
    field_label,
    locate,
)
from app.catalog.models import Bundle, Hall, ServiceItem
from app.extensions import db


def _hall_state(hall: Hall) -> dict:
    return {**{k: getattr(hall, k) for k in HALL_FIELDS},
            "windows": sorted((w.code, w.name, w.group) for w in hall.windows)}


def _item_state(item: ServiceItem) -> dict:
    materials = sorted(item.active_materials, key=lambda m: m.position)
    return {**{k: getattr(item, k) for k in ITEM_FIELDS},
            "fields": form_fields.clean_list(item.form_fields or []),  # as an import stores them
            "retired": item.retired_at is not None,
            "halls": sorted(h.name for h in item.halls),
            "windows": sorted((w.hall.name, w.code) for w in item.windows),
            "materials": [{**{k: getattr(m, k) for k in MATERIAL_FIELDS},
                           "example": m.example_key} for m in materials]}


def _bundle_state(bundle: Bundle) -> dict:
    return {**{k: getattr(bundle, k) for k in BUNDLE_FIELDS},
            "retired": bundle.retired_at is not None, "items": [i.code for i in bundle.items]}


def _named(data: dict) -> tuple[dict, dict, dict]:
    """The halls, items and bundles the file names, as they are now in the session, by key."""
    def by(model, key, rows):
        keys = {row[key] for row in data.get(rows) or []}
        return {getattr(r, key): r for r in db.session.scalars(
            select(model).where(getattr(model, key).in_(keys)))}

    return (by(Hall, "name", "halls"), by(ServiceItem, "code", "items"),
            by(Bundle, "code", "bundles"))


def states(data: dict) -> dict:
    """What the rows the file names look like before it is written (copies, not live rows)."""
    halls, items, bundles = _named(data)
    return copy.deepcopy({
        "halls": {k: _hall_state(v) for k, v in halls.items()},
        "items": {k: _item_state(v) for k, v in items.items()},
        "bundles": {k: _bundle_state(v) for k, v in bundles.items()},
    })


def scope_errors(data: dict, before: dict, hall_id: int) -> list[str]:
    """Each row of a written (not yet committed) file that goes beyond hall `hall_id`: it creates
    or changes another hall, an item not handled by that hall alone (another hall's, or one
    several halls share: those are the city's, app/core/access.py), or a bundle with such an
    item. What a hall admin may change by hand, and nothing more."""
    own = db.session.get(Hall, hall_id)
    halls, items, bundles = _named(data)
    errors: list[str] = []
    for row in data.get("halls") or []:
        hall = halls[row["name"]]
        if hall.id != hall_id and before["halls"].get(hall.name) != _hall_state(hall):
            errors.append(f"{locate(row, '大厅')}:只能修改本大厅({own.name})的信息")
    alone = {}  # item code: handled by this hall alone before and after the file
    for row in data.get("items") or []:
        was, now = before["items"].get(row["code"]), _item_state(items[row["code"]])
        alone[row["code"]] = _alone(now, own) and (was is None or _alone(was, own))
        if was != now:
            problem = _item_problem(was, now, own)
            if problem:
                errors.append(f"{locate(row, '事项')}:{problem}")
    for row in data.get("bundles") or []:
        was, now = before["bundles"].get(row["code"]), _bundle_state(bundles[row["code"]])
        if was == now:
            continue
        members = list(dict.fromkeys((was or {}).get("items", []) + now["items"]))
        unlisted = [code for code in members if code not in alone]  # the file leaves them be
        alone |= {i.code: [h.id for h in i.halls] == [own.id] for i in db.session.scalars(
            select(ServiceItem).where(ServiceItem.code.in_(unlisted)))}
        foreign = [code for code in members if not alone.get(code)]
        if foreign:
            errors.append(f"{locate(row, '一件事')}:含有不由本大厅单独办理的事项 "
                          f"{'、'.join(foreign)},不能新增或修改")
    return errors


def _alone(state: dict, own: Hall) -> bool:
    return state["halls"] == [own.name] and all(w[0] == own.name for w in state["windows"])


def _item_problem(was: dict | None, now: dict, own: Hall) -> str:
    """Why a hall admin may not make this change to an item, or ''."""
    if was is not None and own.name not in was["halls"]:
        return f"本大厅({own.name})不办理这个事项,不能修改"
    if was is not None and not _alone(was, own):
        return "这个事项由几个大厅共用,只有市级管理员可以修改"
    if own.name not in now["halls"]:
        halls = field_label("halls")
        return (f"新增的事项应由本大厅办理,请在{halls}中列出 {own.name}" if was is None
                else f"不能从{halls}中去掉本大厅({own.name})")
    if not _alone(now, own):
        return "只能由本大厅单独办理;要由几个大厅共同办理,请联系市级管理员"
    return ""
