"""Checking a catalog file (YAML, or CSV read into the same shape) before anything is written.

Every bad row is named with its line number, so an admin can fix the whole file in one go.
"""

import yaml
from sqlalchemy import select

from app.catalog import fields as form_fields
from app.catalog.models import Bundle, Hall, Material, ServiceItem, Window
from app.extensions import db
from app.licences.types import licence_problems
from app.reading import examples, kinds

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
AUDIENCE_VALUES = ("individual", "company")
# Lower bounds for whole numbers; upper bounds keep typos like 2000 days out.
RANGES = {"legal_days": (1, 365), "promised_days": (0, 365), "visits": (0, 1), "copies": (1, 20)}


def field_label(key: str) -> str:
    """A field as an admin reads it: the Chinese name, then the column name in the file."""
    return f"{LABELS[key]}({key})" if key in LABELS else key


class CatalogError(ValueError):
    """A catalog file that cannot be imported; `errors` names each bad row."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line each mapping starts on."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


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


def locate(row: dict, kind: str) -> str:
    """Where a row is, for an error message: its line, its kind and its code or name."""
    label = row.get("code") or row.get("name")
    return f"第 {row.get('__line__', '?')} 行({kind}{' ' + str(label) if label else ''})"


def _check_fields(row: dict, spec: dict, where: str, errors: list[str], model=None) -> None:
    for key, kind in spec.items():
        value = row.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            errors.append(f"{where}:{field_label(key)} 应为{KIND_WORDS[kind]}")
        elif kind is int and key in RANGES and not RANGES[key][0] <= value <= RANGES[key][1]:
            low, high = RANGES[key]
            errors.append(f"{where}:{field_label(key)} 应在 {low} 到 {high} 之间")
        elif kind is str and model is not None and key in model.__table__.c:
            length = getattr(model.__table__.c[key].type, "length", None)
            if length and len(value) > length:
                errors.append(f"{where}:{field_label(key)} 不能超过 {length} 个字")
        elif kind is list and not all(isinstance(v, str) for v in value):
            errors.append(f"{where}:{field_label(key)} 的每一项都应为文字")
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
        where = locate(hall, "大厅")
        existing = hall.get("name") in names
        required = ("name",) if existing else ("name", "short_name", "address", "phone", "hours")
        errors.extend(f"{where}:缺少{field_label(key)}" for key in required if not hall.get(key))
        _check_fields(hall, HALL_FIELDS, where, errors, Hall)
        for w in hall.get("windows") or []:
            if not isinstance(w, dict):
                errors.append(f"{where}:windows 的每一项都应为对象")
                continue
            if not w.get("code"):
                errors.append(f"{locate(w, '窗口')}:缺少 code")
            _check_fields(w, WINDOW_FIELDS, locate(w, "窗口"), errors, Window)
            windows.add(f"{hall.get('name')}/{w.get('code')}")
        names.add(hall.get("name"))
    windows |= {f"{name}/{code}" for name, code in db.session.execute(
        select(Hall.name, Window.code).join(Window.hall))}
    return names, windows


def _validate_item(item: dict, halls: set, windows: set, errors: list[str]) -> None:
    where = locate(item, "事项")
    errors.extend(f"{where}:缺少{field_label(key)}" for key in ITEM_REQUIRED if not item.get(key))
    _check_fields(item, ITEM_FIELDS, where, errors, ServiceItem)
    if item.get("audience", "individual") not in AUDIENCE_VALUES:
        errors.append(f"{where}:{field_label('audience')} 只能是 individual 或 company")
    legal, promised = item.get("legal_days"), item.get("promised_days")
    if isinstance(legal, int) and isinstance(promised, int) and promised > legal:
        errors.append(f"{where}:承诺时限不能超过法定时限")
    for key, known, label in (("halls", halls, "大厅"), ("windows", windows, "窗口")):
        value = item.get(key) or []
        if not isinstance(value, list):
            errors.append(f"{where}:{field_label(key)} 应为列表")
            continue
        errors.extend(f"{where}:{label} {v} 不存在" for v in value if v not in known)
    if item.get("fields") is not None:
        errors.extend(f"{where}:{message}" for message in form_fields.check_list(item["fields"]))
    _check_licences(item, where, errors, _audience(item))
    materials = item.get("materials") or []
    if not isinstance(materials, list):
        errors.append(f"{where}:materials 应为列表")
        return
    for m in materials:
        if not isinstance(m, dict):
            errors.append(f"{where}:materials 的每一项都应为对象")
            continue
        mwhere = locate(m, "材料")
        if not m.get("name"):
            errors.append(f"{mwhere}:缺少材料名称")
        _check_fields(m, MATERIAL_FIELDS, mwhere, errors, Material)
        _check_licences(m, mwhere, errors)
        _check_reading(m, mwhere, errors)


def _check_licences(row: dict, where: str, errors: list[str], audience=None) -> None:
    """电子证照: the same check as the admin form's (app/licences/types.py)."""
    kind = row.get("licence_type")
    if kind is not None and not isinstance(kind, str):
        return  # already reported as not text
    problems = licence_problems(kind, row.get("licence_years"), audience)
    errors.extend(f"{where}:{message}" for message in problems.values())


def _audience(item: dict) -> str | None:
    """The audience the item will have: the file's, else the stored item's, else 个人."""
    audience = item.get("audience")
    if audience is None and item.get("licence_type") and isinstance(item.get("code"), str):
        audience = db.session.scalar(select(ServiceItem.audience).where(
            ServiceItem.code == item.get("code"))) or "individual"
    return audience if audience in AUDIENCE_VALUES else None


def _check_reading(m: dict, where: str, errors: list[str]) -> None:
    """智能预审: a document kind we can read, and an example photo that is a photo."""
    kind = m.get("document_kind")
    if isinstance(kind, str) and kind and kind not in kinds.choices():
        names = "、".join(f"{code}({label})" for code, label in kinds.choices().items())
        errors.append(f"{where}:{field_label('document_kind')} 只能是 {names} 或留空")
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
            errors.append(f"{locate(item, '事项')}:事项编码 {item.get('code')} 重复")
        codes.add(item.get("code"))
    known = codes | set(db.session.scalars(select(ServiceItem.code)))
    bundle_codes: set = set()
    for bundle in _rows(data, "bundles", errors):
        where = locate(bundle, "一件事")
        errors.extend(f"{where}:缺少{field_label(key)}" for key in ("code", "name")
                      if not bundle.get(key))
        _check_fields(bundle, BUNDLE_FIELDS, where, errors, Bundle)
        if bundle.get("audience", "individual") not in AUDIENCE_VALUES:
            errors.append(f"{where}:{field_label('audience')} 只能是 individual 或 company")
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
