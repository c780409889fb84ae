"""Catalog import and export as YAML (the demo data's format) or CSV (the same rows, flattened).

A file is checked whole before anything is written (app/catalog/filecheck.py): either everything
is imported in one transaction or nothing is.
"""

import csv
import io as stdio
import json
from dataclasses import dataclass, field

import yaml
from sqlalchemy import select

from app.catalog import fields as form_fields
from app.catalog.csvfile import CSV_COLUMNS, CSV_LIST_SEP, parse_csv
from app.catalog.filecheck import (
    BUNDLE_FIELDS,
    HALL_FIELDS,
    ITEM_FIELDS,
    MATERIAL_FIELDS,
    CatalogError,
    parse,
    validate,
)
from app.catalog.importscope import scope_errors, states
from app.catalog.models import Bundle, BundleItem, Hall, Material, ServiceItem, Window
from app.core.timeutil import utcnow
from app.extensions import db
from app.reading import examples


@dataclass
class ImportReport:
    errors: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    old_files: list[str] = field(default_factory=list)  # replaced example photos, deleted after


def import_file(raw: bytes, filename: str, hall_id: int | None = None) -> ImportReport:
    """Import an uploaded or named file: `.csv` as CSV, anything else as YAML."""
    try:
        text = raw.decode("utf-8-sig")  # spreadsheets often save UTF-8 with a BOM
    except UnicodeDecodeError as exc:
        raise CatalogError(["文件:不是 UTF-8 编码,请另存为 UTF-8 后再导入"]) from exc
    return import_catalog(text, "csv" if filename.lower().endswith(".csv") else "yaml", hall_id)


def import_catalog(text: str, fmt: str = "yaml", hall_id: int | None = None) -> ImportReport:
    """Validate the whole file, then write it in one transaction; nothing half-imported.

    With `hall_id` (a hall admin's upload) a file that changes anything outside that hall is
    refused whole, each such row named (see importscope.scope_errors)."""
    data = parse_csv(text) if fmt == "csv" else parse(text)
    errors = validate(data)
    if errors:
        raise CatalogError(errors)
    report = ImportReport()
    try:
        before = states(data) if hall_id is not None else None
        halls = {h.name: h for h in db.session.scalars(select(Hall))}
        for row in data.get("halls") or []:
            halls[row["name"]] = _upsert_hall(row, halls.get(row["name"]), report)
        db.session.flush()
        windows = {f"{w.hall.name}/{w.code}": w for w in db.session.scalars(select(Window))}
        for row in data.get("items") or []:
            _upsert_item(row, halls, windows, report)
        db.session.flush()
        for row in data.get("bundles") or []:
            _upsert_bundle(row, report)
        if before is not None:
            db.session.flush()
            errors = scope_errors(data, before, hall_id)
            if errors:
                raise CatalogError(errors)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise

    examples.delete(report.old_files)
    return report


def _upsert_hall(row: dict, hall: Hall | None, report: ImportReport) -> Hall:
    if hall is None:
        hall = Hall(name=row["name"])
        db.session.add(hall)
        report.created += 1
    for key in list(HALL_FIELDS)[1:]:
        setattr(hall, key, row.get(key, getattr(hall, key, None)) or "")
    existing = {w.code: w for w in hall.windows}
    for w in row.get("windows") or []:
        window = existing.get(w["code"]) or Window(code=w["code"], hall=hall)
        window.name, window.group = w.get("name") or w["code"], w.get("group") or "A"
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
        if row.get(key) is not None and key != "code":
            setattr(item, key, row[key])
    item.retired_at = None
    item.licence_type = item.licence_type or None
    if row.get("fields") is not None:
        item.form_fields = form_fields.clean_list(row["fields"])
    item.halls = [halls[name] for name in row.get("halls") or []]
    item.windows = [windows[name] for name in row.get("windows") or []]
    current = {m.name: m for m in item.materials}
    names = []
    for position, m in enumerate(row.get("materials") or []):
        material = current.get(m["name"]) or Material(name=m["name"])
        for key in MATERIAL_FIELDS:
            if m.get(key) is not None:
                setattr(material, key, m[key])
        material.document_kind = material.document_kind or None
        material.licence_type = material.licence_type or None
        report.old_files += examples.import_into(material, m.get("example_photo"))
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
        if row.get(key) is not None:
            setattr(bundle, key, row[key])
    bundle.retired_at = None
    codes = row.get("items") or []
    items = {i.code: i for i in db.session.scalars(
        select(ServiceItem).where(ServiceItem.code.in_(codes)))}
    bundle.entries.clear()
    db.session.flush()
    bundle.entries.extend(BundleItem(item=items[c], position=n) for n, c in enumerate(codes))
    return bundle


def catalog_rows() -> dict:
    """The whole active catalog as plain rows: what both exports write."""
    halls = [{**{k: getattr(h, k) for k in HALL_FIELDS},
              "windows": [{"code": w.code, "name": w.name, "group": w.group} for w in h.windows]}
             for h in db.session.scalars(select(Hall).order_by(Hall.id))]
    items = []
    for item in db.session.scalars(select(ServiceItem).where(ServiceItem.retired_at.is_(None))
                                   .order_by(ServiceItem.id)):
        row = {k: getattr(item, k) for k in ITEM_FIELDS}
        row["fields"] = item.form_fields or []
        row["halls"] = [h.name for h in item.halls]
        row["windows"] = [f"{w.hall.name}/{w.code}" for w in item.windows]
        row["materials"] = [_material_row(m) for m in item.active_materials]
        items.append(row)
    bundles = [{**{k: getattr(b, k) for k in BUNDLE_FIELDS},
                "items": [i.code for i in b.items if i.retired_at is None]}
               for b in db.session.scalars(select(Bundle).where(Bundle.retired_at.is_(None))
                                           .order_by(Bundle.id))]
    return {"halls": halls, "items": items, "bundles": bundles}


def _material_row(m: Material) -> dict:
    row = {k: getattr(m, k) for k in MATERIAL_FIELDS}
    example = examples.to_uri(m)
    if example:
        row["example_photo"] = example
    return row


def export_catalog() -> str:
    """The whole active catalog as YAML that import_catalog() takes back."""
    return yaml.safe_dump(catalog_rows(), allow_unicode=True, sort_keys=False)


# CSV: one row per hall, window, item, material and bundle (the layout app/catalog/csvfile.py
# describes and reads back).

def _csv_cell(value) -> str:
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return json.dumps(value, ensure_ascii=False)  # an item's form fields
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return CSV_LIST_SEP.join(value)
    return "" if value is None else str(value)


def export_csv() -> str:
    """The whole active catalog as CSV that import_catalog(fmt="csv") takes back."""
    out = stdio.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    rows = catalog_rows()

    def put(kind: str, row: dict, parent: str = "") -> None:
        flat = {k: v for k, v in row.items() if k in CSV_COLUMNS}
        writer.writerow({"type": kind, "parent": parent,
                         **{k: _csv_cell(v) for k, v in flat.items()}})

    for hall in rows["halls"]:
        put("hall", {k: v for k, v in hall.items() if k != "windows"})
        for w in hall["windows"]:
            put("window", w, hall["name"])
    for item in rows["items"]:
        put("item", {k: v for k, v in item.items() if k != "materials"})
        for m in item["materials"]:
            put("material", m, item["code"])
    for bundle in rows["bundles"]:
        put("bundle", bundle)
    return out.getvalue()
