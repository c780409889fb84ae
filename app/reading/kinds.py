"""Document kinds as data (kinds.yaml): their names, marker words and the fields each holds."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

VALUE_KINDS = ("id_number", "credit_code", "person_name", "org_name")
MATCH_RULES = ("each", "any")


@dataclass(frozen=True)
class FieldSpec:
    """One field a document holds, and what the applicant typed that it is held against."""

    key: str
    noun: str
    labels: tuple[str, ...]
    value: str
    compare: tuple[str, ...]
    identifies: bool = False


@dataclass(frozen=True)
class DocumentKind:
    code: str
    label: str
    markers: tuple[str, ...]
    min_markers: int
    match: str
    fields: tuple[FieldSpec, ...]

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)

    @property
    def identifier(self) -> FieldSpec | None:
        return next((f for f in self.fields if f.identifies), None)


def _kind(code: str, raw: dict) -> DocumentKind:
    fields = tuple(FieldSpec(key=f["key"], noun=f["noun"], labels=tuple(f["labels"]),
                             value=f["value"], compare=tuple(f.get("compare") or ()),
                             identifies=bool(f.get("identifies")))
                   for f in raw.get("fields") or [])
    kind = DocumentKind(code=code, label=raw["label"], markers=tuple(raw["markers"]),
                        min_markers=int(raw.get("min_markers", 2)),
                        match=raw.get("match", "each"), fields=fields)
    if kind.match not in MATCH_RULES or any(f.value not in VALUE_KINDS for f in fields):
        raise ValueError(f"kinds.yaml: {code} has an unknown match rule or value kind")
    return kind


@cache
def kinds() -> dict[str, DocumentKind]:
    """Every kind by its code, read once from kinds.yaml."""
    raw = yaml.safe_load((Path(__file__).parent / "kinds.yaml").read_text(encoding="utf-8"))
    return {code: _kind(code, entry) for code, entry in raw.items()}


def get(code: str | None) -> DocumentKind | None:
    return kinds().get(code) if code else None


def choices() -> dict[str, str]:
    """Code -> Chinese name, for the catalog's material form and import checks."""
    return {code: kind.label for code, kind in kinds().items()}


@cache
def all_labels() -> tuple[str, ...]:
    """Every label and marker of every kind, longest first: where one field's value stops."""
    words = {w for k in kinds().values() for w in k.markers}
    words |= {label for k in kinds().values() for f in k.fields for label in f.labels}
    words |= {"性别", "民族", "出生", "住址", "签发机关", "有效期限", "类型", "法定代表人",
              "注册资本", "成立日期", "营业期限", "经营范围", "登记机关", "与户主关系"}
    return tuple(sorted(words, key=len, reverse=True))
