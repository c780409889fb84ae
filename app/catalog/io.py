"""Catalog import and export in the YAML format the demo data uses; all or nothing."""

from dataclasses import dataclass, field

import yaml
from sqlalchemy import select

from app.catalog.models import Bundle, BundleItem, Hall, Material, ServiceItem, Window
from app.core.timeutil import utcnow
from app.extensions import db

ITEM_FIELDS = {
    "code": str, "name": str, "department": str, "audience": str, "topic": str, "summary": str,
    "keywords": str, "legal_days": int, "promised_days": int, "fee": str, "visits": int,
    "steps": list, "legal_basis": str, "phone": str, "bookable": bool, "prereview": bool,
    "fully_online": bool, "courier": bool,
}
ITEM_REQUIRED = ("code", "name", "department", "topic")
MATERIAL_FIELDS = {"name": str, "original": bool, "copies": int, "notes": str, "photo_ok": bool,
                   "may_be_missing": bool}
HALL_FIELDS = ("name", "short_name", "address", "phone", "hours", "area")


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line each mapping starts on."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


@dataclass
class ImportReport:
    errors: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0


class CatalogError(ValueError):
    """A catalog file that cannot be imported; `errors` names each bad row."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def parse(text: str) -> dict:
    """Parse YAML with line numbers; a syntax error becomes a CatalogError."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行" if mark else "文件"
        raise CatalogError([f"{where}:YAML 格式错误"]) from exc
    if not isinstance(data, dict):
        raise CatalogError(["文件:应为包含 halls / items / bundles 的 YAML 对象"])
    return data


def _check_fields(row: dict, spec: dict, where: str, errors: list[str]) -> None:
    for key, kind in spec.items():
        if key in row and row[key] is not None and not isinstance(row[key], kind):
            errors.append(f"{where}:字段 {key} 类型不对")
    unknown = set(row) - set(spec) - {"__line__", "halls", "windows", "materials", "items"}
    for key in sorted(unknown):
        errors.append(f"{where}:未知字段 {key}")


def _known_places(data: dict) -> tuple[set, set]:
    halls = {h.get("name") for h in data.get("halls") or [] if isinstance(h, dict)}
    halls |= set(db.session.scalars(select(Hall.name)))
    windows = {f"{h.get('name')}/{w.get('code')}" for h in data.get("halls") or []
               for w in h.get("windows") or []}
    windows |= {f"{w.hall.name}/{w.code}" for w in db.session.scalars(select(Window))}
    return halls, windows


def _validate_item(item: dict, n: int, halls: set, windows: set, errors: list[str]) -> None:
    where = f"第 {item.get('__line__', '?')} 行(事项第 {n} 条)"
    errors.extend(f"{where}:缺少 {key}" for key in ITEM_REQUIRED if not item.get(key))
    _check_fields(item, ITEM_FIELDS, where, errors)
    if item.get("audience", "individual") not in ("individual", "company"):
        errors.append(f"{where}:audience 只能是 individual 或 company")
    if (item.get("promised_days") or 0) > (item.get("legal_days") or 10**6):
        errors.append(f"{where}:承诺时限不能超过法定时限")
    errors.extend(f"{where}:大厅 {h} 不存在" for h in item.get("halls") or [] if h not in halls)
    errors.extend(f"{where}:窗口 {w} 不存在" for w in item.get("windows") or []
                  if w not in windows)
    for m in item.get("materials") or []:
        mwhere = f"第 {m.get('__line__', '?')} 行(材料)"
        if not m.get("name"):
            errors.append(f"{mwhere}:缺少材料名称")
        _check_fields(m, MATERIAL_FIELDS, mwhere, errors)


def validate(data: dict) -> list[str]:
    """Every problem in the file, each naming its row and line."""
    errors: list[str] = []
    halls, windows = _known_places(data)
    codes: set = set()
    for n, item in enumerate(data.get("items") or [], 1):
        _validate_item(item, n, halls, windows, errors)
        if item.get("code") in codes:
            errors.append(f"第 {item.get('__line__', '?')} 行:事项编码 {item.get('code')} 重复")
        codes.add(item.get("code"))
    known = codes | set(db.session.scalars(select(ServiceItem.code)))
    for bundle in data.get("bundles") or []:
        where = f"第 {bundle.get('__line__', '?')} 行(一件事)"
        if not bundle.get("code") or not bundle.get("name"):
            errors.append(f"{where}:缺少 code 或 name")
        errors.extend(f"{where}:事项 {c} 不存在" for c in bundle.get("items") or []
                      if c not in known)
    return errors


def import_catalog(text: str) -> ImportReport:
    """Validate the whole file, then write it in one transaction; nothing half-imported."""
    data = parse(text)
    errors = validate(data)
    if errors:
        raise CatalogError(errors)
    report = ImportReport()
    try:
        halls = {h.name: h for h in db.session.scalars(select(Hall))}
        for row in data.get("halls") or []:
            halls[row["name"]] = _upsert_hall(row, halls.get(row["name"]), report)
        db.session.flush()
        windows = {f"{w.hall.name}/{w.code}": w for w in db.session.scalars(select(Window))}
        items = {}
        for row in data.get("items") or []:
            items[row["code"]] = _upsert_item(row, halls, windows, report)
        db.session.flush()
        for row in data.get("bundles") or []:
            _upsert_bundle(row, report)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _upsert_hall(row: dict, hall: Hall | None, report: ImportReport) -> Hall:
    if hall is None:
        hall = Hall(name=row["name"])
        db.session.add(hall)
        report.created += 1
    for key in HALL_FIELDS[1:]:
        setattr(hall, key, row.get(key, getattr(hall, key, None)) or "")
    existing = {w.code: w for w in hall.windows}
    for w in row.get("windows") or []:
        window = existing.get(w["code"]) or Window(code=w["code"], hall=hall)
        window.name, window.group = w.get("name", w["code"]), w.get("group", "A")
        db.session.add(window)
    return hall


def _upsert_item(row: dict, halls: dict, windows: dict, report: ImportReport) -> ServiceItem:
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == row["code"]))
    if item is None:
        item = ServiceItem(code=row["code"])
        db.session.add(item)
        report.created += 1
    else:
        report.updated += 1
    for key in ITEM_FIELDS:
        if key in row and key != "code":
            setattr(item, key, row[key])
    item.retired_at = None
    item.halls = [halls[name] for name in row.get("halls") or []]
    item.windows = [windows[name] for name in row.get("windows") or []]
    current = {m.name: m for m in item.materials}
    names = []
    for position, m in enumerate(row.get("materials") or []):
        material = current.get(m["name"]) or Material(name=m["name"])
        for key in MATERIAL_FIELDS:
            if key in m:
                setattr(material, key, m[key])
        material.position, material.retired_at = position, None
        if material not in item.materials:
            item.materials.append(material)
        names.append(m["name"])
    for name, material in current.items():
        if name not in names and material.retired_at is None:
            material.retired_at = utcnow()  # kept for applications that used it
    return item


def _upsert_bundle(row: dict, report: ImportReport) -> Bundle:
    bundle = db.session.scalar(select(Bundle).where(Bundle.code == row["code"]))
    if bundle is None:
        bundle = Bundle(code=row["code"])
        db.session.add(bundle)
        report.created += 1
    else:
        report.updated += 1
    for key in ("name", "summary", "keywords", "audience"):
        if key in row:
            setattr(bundle, key, row[key])
    bundle.retired_at = None
    codes = row.get("items") or []
    items = {i.code: i for i in db.session.scalars(
        select(ServiceItem).where(ServiceItem.code.in_(codes)))}
    bundle.entries.clear()
    db.session.flush()
    bundle.entries.extend(BundleItem(item=items[c], position=n) for n, c in enumerate(codes))
    return bundle


def export_catalog() -> str:
    """The whole active catalog as YAML that import_catalog() takes back."""
    halls = [{**{k: getattr(h, k) for k in HALL_FIELDS},
              "windows": [{"code": w.code, "name": w.name, "group": w.group} for w in h.windows]}
             for h in db.session.scalars(select(Hall).order_by(Hall.id))]
    items = []
    for item in db.session.scalars(select(ServiceItem).where(ServiceItem.retired_at.is_(None))
                                   .order_by(ServiceItem.id)):
        row = {k: getattr(item, k) for k in ITEM_FIELDS}
        row["halls"] = [h.name for h in item.halls]
        row["windows"] = [f"{w.hall.name}/{w.code}" for w in item.windows]
        row["materials"] = [{k: getattr(m, k) for k in MATERIAL_FIELDS}
                            for m in item.active_materials]
        items.append(row)
    bundles = [{"code": b.code, "name": b.name, "summary": b.summary, "keywords": b.keywords,
                "audience": b.audience, "items": [i.code for i in b.items]}
               for b in db.session.scalars(select(Bundle).where(Bundle.retired_at.is_(None))
                                           .order_by(Bundle.id))]
    return yaml.safe_dump({"halls": halls, "items": items, "bundles": bundles},
                          allow_unicode=True, sort_keys=False)
