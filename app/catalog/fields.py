"""申请表字段: an item's own questions on the applicant page, after name, ID number and phone.

An item keeps them in `ServiceItem.form_fields`, a list of plain dicts:
`{key, label, kind, required, options, hint, max_length}`. Admins edit them on a phone as lines
of text, one field a line (see LINE_HELP); import and export carry the dicts. An application keeps
the answers with their labels (`snapshot`), so a later edit of the catalog changes no application.
"""

import re
from datetime import date

from app.core.models import audit
from app.extensions import db
from app.reading.codes import CREDIT_RE, valid_credit_code

KINDS = {"text": "文本", "textarea": "多行文本", "select": "选择", "date": "日期",
         "number": "数字", "credit_code": "统一社会信用代码"}
KIND_WORDS = {"text": "text", "文本": "text", "文字": "text", "textarea": "textarea",
              "多行": "textarea", "多行文本": "textarea", "select": "select", "选择": "select",
              "单选": "select", "date": "date", "日期": "date", "number": "number",
              "数字": "number", "credit_code": "credit_code", "统一社会信用代码": "credit_code",
              "信用代码": "credit_code"}
KIND_LIST = "文本、多行文本、选择、日期、数字 或 统一社会信用代码"
REQUIRED_WORDS = {"": True, "必填": True, "选填": False}
DEFAULT_MAX = {"text": 100, "textarea": 500}
LIMITS = {"fields": 20, "label": 30, "options": 30, "option": 40, "hint": 100, "max_length": 2000}
KEY_RE = re.compile(r"^[\w-]{1,40}$")  # \w takes Chinese too: a label can be its own key
SEPARATOR = re.compile("[|\uff5c]")  # | or the full-width ｜ of a phone keyboard
OPTION_SEPARATOR = re.compile("[,\uff0c\u3001]")  # , ， 、
NUMBER_RE = re.compile(r"^-?\d{1,15}(\.\d{1,6})?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LINE_HELP = ("每行一个字段:名称|类型|必填或选填|选项|提示|最多字数。类型为 文本、多行文本、选择、"
             "日期、数字 或 统一社会信用代码;选择题的选项用逗号分隔;后面几栏可以省略。")
FIELD_KEYS = ("key", "label", "kind", "required", "options", "hint", "max_length")


def key_for(label: str) -> str:
    """A key from a label: the label without spaces and punctuation."""
    return re.sub(r"[^\w-]", "", label)[:40]


def clean(field: dict) -> dict:
    """One field with every key present and the defaults filled in."""
    kind = str(field.get("kind") or "text")
    label = str(field.get("label") or "").strip()
    max_length = field.get("max_length")
    return {
        "key": str(field.get("key") or key_for(label)),
        "label": label,
        "kind": kind,
        "required": field.get("required") is not False,
        "options": [str(o).strip() for o in field.get("options") or []],
        "hint": str(field.get("hint") or "").strip(),
        "max_length": (max_length or DEFAULT_MAX[kind]) if kind in DEFAULT_MAX else None,
    }


def problems(field: dict) -> list[str]:
    """What is wrong with one cleaned field, in Chinese; empty when it is good."""
    found = []
    label, kind, options = field["label"], field["kind"], field["options"]
    if not label:
        found.append("缺少字段名称")
    elif len(label) > LIMITS["label"]:
        found.append(f"字段名称不能超过 {LIMITS['label']} 个字")
    if label and not KEY_RE.match(field["key"]):
        found.append(f"字段编码 {field['key']} 只能用文字、字母、数字、短横线和下划线")
    if kind not in KINDS:
        found.append(f"类型“{kind}”不认识,应为 {KIND_LIST}")
    elif kind == "select":
        found += _option_problems(options)
    elif options:
        found.append("只有“选择”类型才能填写选项")
    if len(field["hint"]) > LIMITS["hint"]:
        found.append(f"提示不能超过 {LIMITS['hint']} 个字")
    max_length = field["max_length"]
    if kind in DEFAULT_MAX and (not isinstance(max_length, int) or isinstance(max_length, bool)
                                or not 1 <= max_length <= LIMITS["max_length"]):
        found.append(f"最多字数应为 1 到 {LIMITS['max_length']} 之间的整数")
    return found


def _option_problems(options: list[str]) -> list[str]:
    if len(options) < 2:
        return ["选择题至少要有两个选项,用逗号分隔"]
    if len(options) > LIMITS["options"]:
        return [f"选项最多 {LIMITS['options']} 个"]
    if len(set(options)) != len(options) or not all(options):
        return ["选项不能为空,也不能重复"]
    if any(len(o) > LIMITS["option"] for o in options):
        return [f"每个选项不能超过 {LIMITS['option']} 个字"]
    return []


def parse_lines(text: str, existing: list[dict] | None = None) -> tuple[list[dict], list[str]]:
    """Fields from the admin's lines; every bad line named by its number.

    A field keeps its key while its name stays the same, so drafts keep their answers."""
    keys = {f["label"]: f["key"] for f in existing or []}
    fields, errors, seen = [], [], {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"第 {number} 行"
        parts = [p.strip() for p in SEPARATOR.split(line)]
        if len(parts) > 6:
            errors.append(f"{where}:最多 6 栏(名称|类型|必填或选填|选项|提示|最多字数)")
            continue
        label, kind, required, options, hint, max_length = parts + [""] * (6 - len(parts))
        line_errors = []
        if kind and kind not in KIND_WORDS:
            line_errors.append(f"类型“{kind}”不认识,应为 {KIND_LIST}")
        if required not in REQUIRED_WORDS:
            line_errors.append(f"第三栏应为“必填”或“选填”,不是“{required}”")
        if max_length and not max_length.isdecimal():
            line_errors.append("最多字数只能填数字")
        kind = KIND_WORDS.get(kind or "text", "text")
        if max_length and kind not in DEFAULT_MAX:
            line_errors.append("只有文本和多行文本才能限定最多字数")
        if line_errors:
            errors.extend(f"{where}:{message}" for message in line_errors)
            continue
        field = clean({"key": keys.get(label), "label": label, "kind": kind,
                       "required": REQUIRED_WORDS.get(required, True),
                       "options": [o for o in OPTION_SEPARATOR.split(options) if o.strip()],
                       "hint": hint, "max_length": int(max_length) if max_length.isdecimal()
                       else None})
        line_errors = problems(field)
        if field["key"] in seen:
            line_errors.append(f"与第 {seen[field['key']]} 行的字段重名")
        seen.setdefault(field["key"], number)
        if line_errors:
            errors.extend(f"{where}:{message}" for message in line_errors)
        else:
            fields.append(field)
    if len(seen) > LIMITS["fields"]:
        errors.append(f"最多 {LIMITS['fields']} 个字段")
    return fields, errors


def to_lines(fields: list[dict] | None) -> str:
    """The fields as the lines an admin edits; parse_lines() reads them back."""
    lines = []
    for f in fields or []:
        parts = [f["label"], KINDS.get(f["kind"], f["kind"]), "必填" if f["required"] else "选填",
                 ",".join(f.get("options") or []), f.get("hint") or "",
                 str(f["max_length"]) if f.get("max_length") not in (None,
                                                                     DEFAULT_MAX.get(f["kind"]))
                 else ""]
        while parts and not parts[-1]:
            parts.pop()
        lines.append("|".join(parts))
    return "\n".join(lines)


def check_list(value) -> list[str]:
    """Problems with a list of field dicts from an imported file, each naming its field."""
    if not isinstance(value, list):
        return ["申请表字段(fields) 应为列表"]
    errors, seen = [], set()
    for n, raw in enumerate(value, 1):
        if not isinstance(raw, dict):
            errors.append(f"申请表字段第 {n} 个应为对象")
            continue
        unknown = sorted(set(raw) - set(FIELD_KEYS) - {"__line__"})
        if unknown:
            errors.append(f"申请表字段第 {n} 个:未知字段 {'、'.join(unknown)}")
        if not isinstance(raw.get("options") or [], list):
            errors.append(f"申请表字段第 {n} 个:options 应为列表")
            continue
        field = clean(raw)
        errors.extend(f"申请表字段第 {n} 个:{message}" for message in problems(field))
        if field["key"] in seen:
            errors.append(f"申请表字段第 {n} 个:编码 {field['key']} 重复")
        seen.add(field["key"])
    if len(value) > LIMITS["fields"]:
        errors.append(f"申请表字段最多 {LIMITS['fields']} 个")
    return errors


def clean_list(value: list[dict]) -> list[dict]:
    """Checked field dicts as they are stored."""
    return [clean(raw) for raw in value]


def merge(items) -> list[dict]:
    """The fields of several items (a bundle), each key once: the first wins, required if any
    item requires it."""
    merged: dict[str, dict] = {}
    for item in items:
        for field in item.form_fields or []:
            if field["key"] in merged:
                merged[field["key"]]["required"] |= field["required"]
            else:
                merged[field["key"]] = dict(field)
    return list(merged.values())


def check_answers(fields: list[dict], typed: dict) -> tuple[dict, dict]:
    """The answers as kept (trimmed) and an error per bad field, keyed `field-<key>`."""
    values, errors = {}, {}
    for f in fields:
        value = str(typed.get(f["key"]) or "").strip()
        if f["kind"] == "credit_code":  # as printed on the licence: capitals, no spaces
            value = re.sub(r"[\s-]", "", value).upper()
        values[f["key"]] = value
        message = _answer_problem(f, value)
        if message:
            errors[f"field-{f['key']}"] = message
    return values, errors


def _answer_problem(f: dict, value: str) -> str | None:
    label, kind = f["label"], f["kind"]
    if not value:
        if not f["required"]:
            return None
        return f"请选择{label}" if kind == "select" else f"请填写{label}"
    if kind == "select" and value not in f["options"]:
        return f"请从列表中选择{label}"
    if kind in DEFAULT_MAX and len(value) > (f.get("max_length") or DEFAULT_MAX[kind]):
        return f"{label}不能超过 {f.get('max_length') or DEFAULT_MAX[kind]} 个字"
    if kind == "number" and not NUMBER_RE.match(value):
        return f"{label}只能填数字,如 100 或 12.5"
    if kind == "date" and not _is_date(value):
        return f"{label}请按“年-月-日”填写,如 2026-01-31"
    if kind == "credit_code":
        return _credit_code_problem(label, value)
    return None


def _credit_code_problem(label: str, value: str) -> str | None:
    """GB 32100-2015: 18 characters and a check character, as ID numbers have theirs."""
    if len(value) != 18:
        return f"{label}应为 18 位,您填了 {len(value)} 位,请对照营业执照核对"
    if not CREDIT_RE.match(value):
        return f"{label}只含数字和大写字母(不含 I、O、Z、S、V),请对照营业执照核对"
    if not valid_credit_code(value):
        return f"{label}校验不通过,可能有一位填错了,请对照营业执照核对"
    return None


def _is_date(value: str) -> bool:
    if not DATE_RE.match(value):
        return False
    try:
        return 1900 <= date.fromisoformat(value).year <= 2100
    except ValueError:
        return False


def snapshot(fields: list[dict], values: dict) -> list[dict]:
    """The answers with the labels they were given under, as the application keeps them."""
    return [{"key": f["key"], "label": f["label"], "kind": f["kind"],
             "value": values.get(f["key"], "")} for f in fields]


def unanswered(fields: list[dict], answers: list[dict] | None) -> list[str]:
    """Labels of required fields that have no answer yet (the catalog may have changed)."""
    given = {a["key"]: a["value"] for a in answers or []}
    return [f["label"] for f in fields if f["required"] and not given.get(f["key"])]


def save(item, fields: list[dict], actor_id: int) -> None:
    """Replace an item's fields (a new list, so the JSON column is seen as changed, and the
    catalog revision moves with the flush); audited."""
    item.form_fields = [dict(f) for f in fields]
    db.session.flush()
    audit("service_item", item.id, "fields_saved", actor_id=actor_id)
    db.session.commit()
