"""Catalog import and export as YAML (the demo data's format) or CSV (the same rows, flattened).

A file is checked whole before anything is written: every bad row is named with its line number,
and either everything is imported in one transaction or nothing is.
"""

import copy
import csv
import io as stdio
import json
from dataclasses import dataclass, field

import yaml
from sqlalchemy import select

from app.catalog import fields as form_fields
from app.catalog.models import Bundle, BundleItem, Hall, Material, ServiceItem, Window
from app.core.timeutil import utcnow
from app.extensions import db

ITEM_FIELDS = {
    "code": str, "name": str, "department": str, "audience": str, "topic": str, "summary": str,
    "keywords": str, "legal_days": int, "promised_days": int, "fee": str, "visits": int,
    "steps": list, "legal_basis": str, "phone": str, "bookable": bool, "prereview": bool,
    "fully_online": bool, "courier": bool, "licence_type": str, "licence_years": int,
}
ITEM_REQUIRED = ("code", "name", "department", "topic")
MATERIAL_FIELDS = {"name": str, "original": bool, "copies": int, "notes": str, "photo_ok": bool,
                   "may_be_missing": bool, "document_kind": str, "licence_type": str}
HALL_FIELDS = {"name": str, "short_name": str, "address": str, "phone": str, "hours": str,
               "area": str}
WINDOW_FIELDS = {"code": str, "name": str, "group": str}
BUNDLE_FIELDS = {"code": str, "name": str, "summary": str, "keywords": str, "audience": str}
# Keys checked on their own: nested rows, and a material's example photo (a data URI).
NESTED = {"halls", "windows", "materials", "items", "fields", "example_photo", "__line__"}
KIND_WORDS = {str: "文字", int: "整数", bool: "true 或 false", list: "列表"}
LABELS = {
    "code": "编码", "name": "名称", "department": "实施部门", "audience": "服务对象",
    "topic": "主题", "summary": "简介", "keywords": "关键词", "legal_days": "法定时限",
    "promised_days": "承诺时限", "fee": "收费", "visits": "跑动次数", "steps": "办理流程",
    "legal_basis": "设定依据", "phone": "电话", "bookable": "可预约", "prereview": "可拍照预审",
    "fully_online": "全程网办", "courier": "快递送达", "original": "是否原件", "copies": "份数",
    "notes": "说明", "photo_ok": "可拍照", "may_be_missing": "可容缺", "short_name": "简称",
    "address": "地址", "hours": "办公时间", "area": "地区", "group": "窗口组",
    "halls": "大厅", "windows": "窗口", "items": "事项", "fields": "申请表字段",
    "document_kind": "证件识别", "example_photo": "示例图",
    "licence_type": "电子证照类型", "licence_years": "证照有效期(年)",
}


def _f(key: str) -> str:
    """A field as an admin reads it: the Chinese name, then the column name in the file."""
    return f"{LABELS[key]}({key})" if key in LABELS else key
AUDIENCE_VALUES = ("individual", "company")
# Lower bounds for whole numbers; upper bounds keep typos like 2000 days out.
RANGES = {"legal_days": (1, 365), "promised_days": (0, 365), "visits": (0, 1), "copies": (1, 20),
          "licence_years": (1, 50)}
CSV_COLUMNS = ["type", "parent", "code", "name", "department", "audience", "topic", "summary",
               "keywords", "legal_days", "promised_days", "fee", "visits", "steps",
               "legal_basis", "phone", "bookable", "prereview", "fully_online", "courier",
               "halls", "windows", "items", "original", "copies", "notes", "photo_ok",
               "may_be_missing", "document_kind", "example_photo", "short_name", "address",
               "hours", "area", "group", "licence_type", "licence_years", "fields"]
CSV_LIST_SEP = "|"


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
    old_files: list[str] = field(default_factory=list)  # replaced example photos, deleted after


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


def _where(row: dict, kind: str) -> str:
    label = row.get("code") or row.get("name")
    return f"第 {row.get('__line__', '?')} 行({kind}{' ' + str(label) if label else ''})"


def _check_fields(row: dict, spec: dict, where: str, errors: list[str], model=None) -> None:
    for key, kind in spec.items():
        value = row.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            errors.append(f"{where}:{_f(key)} 应为{KIND_WORDS[kind]}")
        elif kind is int and key in RANGES and not RANGES[key][0] <= value <= RANGES[key][1]:
            low, high = RANGES[key]
            errors.append(f"{where}:{_f(key)} 应在 {low} 到 {high} 之间")
        elif kind is str and model is not None and key in model.__table__.c:
            length = getattr(model.__table__.c[key].type, "length", None)
            if length and len(value) > length:
                errors.append(f"{where}:{_f(key)} 不能超过 {length} 个字")
        elif kind is list and not all(isinstance(v, str) for v in value):
            errors.append(f"{where}:{_f(key)} 的每一项都应为文字")
    for key in sorted(set(row) - set(spec) - NESTED):
        errors.append(f"{where}:未知字段 {key}")


def _rows(data: dict, key: str, errors: list[str]) -> list[dict]:
    """The list under `key`; anything that is not a mapping is reported, not imported."""
    value = data.get(key) or []
    if not isinstance(value, list):
        errors.append(f"文件:{key} 应为列表")
        return []
    good = []
    for n, row in enumerate(value, 1):
        if isinstance(row, dict):
            good.append(row)
        else:
            errors.append(f"文件:{key} 第 {n} 条应为对象")
    return good


def _validate_halls(halls: list[dict], errors: list[str]) -> tuple[set, set]:
    names, windows = set(db.session.scalars(select(Hall.name))), set()
    for hall in halls:
        where = _where(hall, "大厅")
        existing = hall.get("name") in names
        required = ("name",) if existing else ("name", "short_name", "address", "phone", "hours")
        errors.extend(f"{where}:缺少{_f(key)}" for key in required if not hall.get(key))
        _check_fields(hall, HALL_FIELDS, where, errors, Hall)
        for w in hall.get("windows") or []:
            if not isinstance(w, dict):
                errors.append(f"{where}:windows 的每一项都应为对象")
                continue
            if not w.get("code"):
                errors.append(f"{_where(w, '窗口')}:缺少 code")
            _check_fields(w, WINDOW_FIELDS, _where(w, "窗口"), errors, Window)
            windows.add(f"{hall.get('name')}/{w.get('code')}")
        names.add(hall.get("name"))
    windows |= {f"{name}/{code}" for name, code in db.session.execute(
        select(Hall.name, Window.code).join(Window.hall))}
    return names, windows


def _validate_item(item: dict, halls: set, windows: set, errors: list[str]) -> None:
    where = _where(item, "事项")
    errors.extend(f"{where}:缺少{_f(key)}" for key in ITEM_REQUIRED if not item.get(key))
    _check_fields(item, ITEM_FIELDS, where, errors, ServiceItem)
    if item.get("audience", "individual") not in AUDIENCE_VALUES:
        errors.append(f"{where}:{_f('audience')} 只能是 individual 或 company")
    legal, promised = item.get("legal_days"), item.get("promised_days")
    if isinstance(legal, int) and isinstance(promised, int) and promised > legal:
        errors.append(f"{where}:承诺时限不能超过法定时限")
    for key, known, label in (("halls", halls, "大厅"), ("windows", windows, "窗口")):
        value = item.get(key) or []
        if not isinstance(value, list):
            errors.append(f"{where}:{_f(key)} 应为列表")
            continue
        errors.extend(f"{where}:{label} {v} 不存在" for v in value if v not in known)
    if item.get("fields") is not None:
        errors.extend(f"{where}:{message}" for message in form_fields.check_list(item["fields"]))
    _check_licence_type(item, where, errors)
    materials = item.get("materials") or []
    if not isinstance(materials, list):
        errors.append(f"{where}:materials 应为列表")
        return
    for m in materials:
        if not isinstance(m, dict):
            errors.append(f"{where}:materials 的每一项都应为对象")
            continue
        mwhere = _where(m, "材料")
        if not m.get("name"):
            errors.append(f"{mwhere}:缺少材料名称")
        _check_fields(m, MATERIAL_FIELDS, mwhere, errors, Material)
        _check_licence_type(m, mwhere, errors)
        _check_reading(m, mwhere, errors)


def _check_licence_type(row: dict, where: str, errors: list[str]) -> None:
    """电子证照: an item issues, and a material accepts, only a licence type the app knows."""
    from app.licences.types import TYPES

    value = row.get("licence_type")
    if isinstance(value, str) and value and value not in TYPES:
        errors.append(f"{where}:未知的电子证照类型 {value}(可用:{'、'.join(TYPES)})")


def _check_reading(m: dict, where: str, errors: list[str]) -> None:
    """智能预审: a document kind we can read, and an example photo that is a photo."""
    from app.reading import examples, kinds

    kind = m.get("document_kind")
    if isinstance(kind, str) and kind and kind not in kinds.choices():
        names = "、".join(f"{code}({label})" for code, label in kinds.choices().items())
        errors.append(f"{where}:{_f('document_kind')} 只能是 {names} 或留空")
    if m.get("example_photo"):
        try:
            examples.from_uri(m["example_photo"])
        except examples.ExampleRejected as exc:
            errors.append(f"{where}:{exc}")


def validate(data: dict) -> list[str]:
    """Every problem in the file, each naming its row and line."""
    errors: list[str] = []
    for key in sorted(set(data) - {"halls", "items", "bundles", "__line__"}):
        errors.append(f"文件:未知的部分 {key}(只能有 halls、items、bundles)")
    halls, windows = _validate_halls(_rows(data, "halls", errors), errors)
    codes: set = set()
    for item in _rows(data, "items", errors):
        _validate_item(item, halls, windows, errors)
        if item.get("code") in codes:
            errors.append(f"{_where(item, '事项')}:事项编码 {item.get('code')} 重复")
        codes.add(item.get("code"))
    known = codes | set(db.session.scalars(select(ServiceItem.code)))
    bundle_codes: set = set()
    for bundle in _rows(data, "bundles", errors):
        where = _where(bundle, "一件事")
        errors.extend(f"{where}:缺少{_f(key)}" for key in ("code", "name") if not bundle.get(key))
        _check_fields(bundle, BUNDLE_FIELDS, where, errors, Bundle)
        if bundle.get("audience", "individual") not in AUDIENCE_VALUES:
            errors.append(f"{where}:{_f('audience')} 只能是 individual 或 company")
        if bundle.get("code") in bundle_codes:
            errors.append(f"{where}:一件事编码 {bundle.get('code')} 重复")
        bundle_codes.add(bundle.get("code"))
        members = bundle.get("items") or []
        if not isinstance(members, list) or len(members) < 2:
            errors.append(f"{where}:items 应列出至少两个事项编码")
            continue
        errors.extend(f"{where}:事项 {c} 不存在" for c in members if c not in known)
        if len(set(map(str, members))) != len(members):
            errors.append(f"{where}:items 有重复的事项")
    return errors


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
    refused whole, each such row named (see scope_errors)."""
    data = parse_csv(text) if fmt == "csv" else parse(text)
    errors = validate(data)
    if errors:
        raise CatalogError(errors)
    report = ImportReport()
    try:
        before = _states(data) if hall_id is not None else None
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
    from app.reading import examples

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
    from app.reading import examples

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


# A hall admin's import. Rather than foresee what each row would do, the rows are written in the
# open transaction and the catalog is compared before and after: a row may leave anything outside
# the admin's hall exactly as it was (so an exported file comes back unchanged), and only changes
# what that admin could change by hand on the admin pages.

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


def _states(data: dict) -> dict:
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
            errors.append(f"{_where(row, '大厅')}:只能修改本大厅({own.name})的信息")
    alone = {}  # item code: handled by this hall alone before and after the file
    for row in data.get("items") or []:
        was, now = before["items"].get(row["code"]), _item_state(items[row["code"]])
        alone[row["code"]] = _alone(now, own) and (was is None or _alone(was, own))
        if was != now:
            problem = _item_problem(was, now, own)
            if problem:
                errors.append(f"{_where(row, '事项')}:{problem}")
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
            errors.append(f"{_where(row, '一件事')}:含有不由本大厅单独办理的事项 "
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
        return (f"新增的事项应由本大厅办理,请在{_f('halls')}中列出 {own.name}" if was is None
                else f"不能从{_f('halls')}中去掉本大厅({own.name})")
    if not _alone(now, own):
        return "只能由本大厅单独办理;要由几个大厅共同办理,请联系市级管理员"
    return ""


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
    from app.reading import examples

    row = {k: getattr(m, k) for k in MATERIAL_FIELDS}
    example = examples.to_uri(m)
    if example:
        row["example_photo"] = example
    return row


def export_catalog() -> str:
    """The whole active catalog as YAML that import_catalog() takes back."""
    return yaml.safe_dump(catalog_rows(), allow_unicode=True, sort_keys=False)


# CSV: one row per hall, window, item, material and bundle, told apart by the `type` column.
# Windows and materials name their hall or item in `parent`; lists are joined with "|".

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


CSV_SPECS = {
    "hall": HALL_FIELDS, "window": WINDOW_FIELDS,
    "material": {**MATERIAL_FIELDS, "example_photo": str},
    "item": {**ITEM_FIELDS, "halls": list, "windows": list, "fields": "json"},
    "bundle": {**BUNDLE_FIELDS, "items": list},
}
TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes", "是", "y"}, {"false", "0", "no", "否", "n"}


def _csv_value(raw: str, kind, key: str, line: int, errors: list[str]):
    if kind is str:
        return raw
    if kind == "json":
        try:
            return json.loads(raw)
        except ValueError:
            errors.append(f"第 {line} 行:{_f(key)} 应为 JSON 列表,如 "
                          '[{"label": "变更事项", "kind": "select", "options": ["名称", "住所"]}]')
            return None
    if kind is list:
        return [part.strip() for part in raw.split(CSV_LIST_SEP) if part.strip()]
    if kind is int:
        if raw.lstrip("-").isdigit():
            return int(raw)
        errors.append(f"第 {line} 行:{_f(key)} 应为整数")
    elif kind is bool:
        if raw.lower() in TRUE_WORDS | FALSE_WORDS:
            return raw.lower() in TRUE_WORDS
        errors.append(f"第 {line} 行:{_f(key)} 应为 true 或 false")
    return None


def parse_csv(text: str) -> dict:
    """CSV rows into the same shape the YAML file has, each row keeping its line number."""
    reader = csv.reader(stdio.StringIO(text, newline=""))
    errors: list[str] = []
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise CatalogError(["第 1 行:缺少表头"]) from exc
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if "type" not in header or unknown:
        raise CatalogError([f"第 1 行:表头应为 {','.join(CSV_COLUMNS)} 中的列"
                            + (f",未知列 {'、'.join(unknown)}" if unknown else "")])
    data: dict = {"halls": [], "items": [], "bundles": []}
    halls, items = {}, {}
    start = reader.line_num + 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            _csv_row(dict(zip(header, cells, strict=False)), line, data, halls, items, errors)
    except csv.Error as exc:
        errors.append(f"第 {reader.line_num} 行:CSV 格式错误")
        raise CatalogError(errors) from exc
    if errors:
        raise CatalogError(errors + validate(data))
    return data


def _csv_row(cells: dict, line: int, data: dict, halls: dict, items: dict,
             errors: list[str]) -> None:
    kind = (cells.get("type") or "").strip()
    spec = CSV_SPECS.get(kind)
    if spec is None:
        errors.append(f"第 {line} 行:type 应为 hall、window、item、material 或 bundle")
        return
    row = {"__line__": line}
    for key, kind_of in spec.items():
        raw = (cells.get(key) or "").strip()
        if raw:
            row[key] = _csv_value(raw, kind_of, key, line, errors)
    for key in set(cells) - set(spec) - {"type", "parent"}:
        if (cells.get(key) or "").strip():
            errors.append(f"第 {line} 行:{kind} 行不该填写 {key}")
    parent = (cells.get("parent") or "").strip()
    if kind == "hall":
        data["halls"].append(row)
        halls[row.get("name")] = row
    elif kind == "item":
        data["items"].append(row)
        items[row.get("code")] = row
    elif kind == "bundle":
        data["bundles"].append(row)
    else:
        owners, label = (halls, "大厅") if kind == "window" else (items, "事项")
        owner = owners.get(parent)
        if owner is None:
            errors.append(f"第 {line} 行:parent 应为本文件中前面出现过的{label}"
                          f"{'(' + parent + ')' if parent else ''}")
        else:
            owner.setdefault("windows" if kind == "window" else "materials", []).append(row)
