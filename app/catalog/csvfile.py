"""Reading a catalog CSV: one row per hall, window, item, material and bundle, told apart by the
`type` column. Windows and materials name their hall or item in `parent`; lists are joined with
"|". The rows come out in the shape the YAML file has, so one check (filecheck) covers both.
"""

import csv
import io as stdio
import json

from app.catalog.filecheck import (
    BUNDLE_FIELDS,
    HALL_FIELDS,
    ITEM_FIELDS,
    MATERIAL_FIELDS,
    WINDOW_FIELDS,
    CatalogError,
    field_label,
    validate,
)

CSV_COLUMNS = ["type", "parent", "code", "name", "department", "audience", "topic", "summary",
               "keywords", "legal_days", "promised_days", "fee", "visits", "steps",
               "legal_basis", "phone", "bookable", "prereview", "fully_online", "courier",
               "halls", "windows", "items", "original", "copies", "notes", "photo_ok",
               "may_be_missing", "document_kind", "example_photo", "short_name", "address",
               "hours", "area", "group", "licence_type", "licence_years", "fields"]
CSV_LIST_SEP = "|"
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
            errors.append(f"第 {line} 行:{field_label(key)} 应为 JSON 列表,如 "
                          '[{"label": "变更事项", "kind": "select", "options": ["名称", "住所"]}]')
            return None
    if kind is list:
        return [part.strip() for part in raw.split(CSV_LIST_SEP) if part.strip()]
    if kind is int:
        if raw.lstrip("-").isdecimal():
            return int(raw)
        errors.append(f"第 {line} 行:{field_label(key)} 应为整数")
    elif kind is bool:
        if raw.lower() in TRUE_WORDS | FALSE_WORDS:
            return raw.lower() in TRUE_WORDS
        errors.append(f"第 {line} 行:{field_label(key)} 应为 true 或 false")
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
