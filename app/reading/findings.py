"""Findings: what a material's read photos say against what the applicant typed. Pure functions.

A photo's own problems (no text, another document, a number that fails its check) are found
once, when it is read, and kept as issue codes. Comparisons are made whenever the findings are
shown, against what is typed now: a citizen who corrects the form sees the finding go without
the photo being read again, and the clerk's hint is the same comparison at decision time.
"""

import re
from dataclasses import dataclass

from app.applications import idcard
from app.reading.extract import normal_org
from app.reading.kinds import DocumentKind, FieldSpec

UNREADABLE, WRONG_KIND, UNCLEAR, MISMATCH = "unreadable", "wrong_kind", "unclear", "mismatch"
UNCERTAIN = "uncertain"  # an issue code that is no finding: a value read with doubt
# The clerk's 需补正 reasons (app/applications/states.py FIX_REASONS) each finding suggests.
FIX_REASON = {UNREADABLE: "blurry", UNCLEAR: "blurry", WRONG_KIND: "wrong", MISMATCH: "mismatch"}


@dataclass(frozen=True)
class Finding:
    """One thing to tell the citizen and the clerk about one photo."""

    code: str
    message: str
    field: str | None = None

    @property
    def reason(self) -> str:
        return FIX_REASON[self.code]


@dataclass(frozen=True)
class Offer:
    """A value the photo holds that the applicant has not typed: filled only on a tap."""

    field: str
    target: str  # applicant_name, id_number or answer:<key>
    value: str
    noun: str


def issue_findings(kind: DocumentKind, issues: list[str]) -> list[Finding]:
    """The photo's own problems, found when it was read."""
    found = []
    for issue in issues or []:
        code, _, key = issue.partition(":")
        if code == UNREADABLE:
            found.append(Finding(UNREADABLE, "未能识别出文字,照片可能不清晰"))
        elif code == WRONG_KIND:
            found.append(Finding(WRONG_KIND, f"这张照片看起来不是{kind.label}"))
        elif code == UNCLEAR and kind.field(key):
            noun = kind.field(key).noun
            found.append(Finding(UNCLEAR, f"照片中的{noun}看不清,照片可能不清晰", key))
    return found


def normal(spec: FieldSpec, value: str | None) -> str:
    """A value as it is compared: case, spaces and bracket widths never make a difference."""
    value = re.sub(r"\s+", "", value or "")
    if spec.value in ("id_number", "credit_code"):
        return idcard.normalize(value)
    if spec.value == "org_name":
        return normal_org(value)
    return value.replace("•", "·").replace("・", "·")


def typed_value(spec: FieldSpec, typed: dict) -> tuple[str | None, str]:
    """The first compare target the form has (even when empty), and what it holds."""
    present = [t for t in spec.compare if t in typed]
    if not present:
        return None, ""
    filled = next((t for t in present if (typed[t] or "").strip()), present[0])
    return filled, typed[filled] or ""


def evaluate(kind: DocumentKind, photos: dict[int, tuple[list[str], dict]], typed: dict
             ) -> dict[int, list[Finding]]:
    """Findings per photo id, from each read photo's (issues, fields) and what is typed."""
    result = {photo_id: issue_findings(kind, issues) for photo_id, (issues, _) in photos.items()}
    for spec in kind.fields:
        target, value = typed_value(spec, typed)
        if target is None or not value.strip():
            continue
        wanted = normal(spec, value)
        shown = {pid: normal(spec, fields[spec.key]) for pid, (issues, fields) in photos.items()
                 if _comparable(kind, spec, issues, fields)}
        if kind.match == "any" and wanted in shown.values():
            continue
        for photo_id, seen in shown.items():
            if seen != wanted:
                result[photo_id].append(Finding(
                    MISMATCH, f"照片中的{spec.noun}与填写的不一致", spec.key))
    return result


def _comparable(kind: DocumentKind, spec: FieldSpec, issues: list[str], fields: dict) -> bool:
    """Whether a photo's value of a field may be held against what was typed: it was read, the
    engine was sure of it, and no identifying number on the photo decides already."""
    if not fields or not fields.get(spec.key) or f"{UNCERTAIN}:{spec.key}" in (issues or []):
        return False
    identifier = kind.identifier
    return spec.identifies or identifier is None or not fields.get(identifier.key)


def offers(kind: DocumentKind, photos: dict[int, tuple[list[str], dict]], typed: dict
           ) -> list[Offer]:
    """Fields the photos hold whose form field is still empty (one value each, the first)."""
    found = []
    for spec in kind.fields:
        target, value = typed_value(spec, typed)
        if target is None or value.strip():
            continue
        read = next((f[spec.key] for _, f in photos.values() if f and f.get(spec.key)), None)
        if read:
            found.append(Offer(spec.key, target, read, spec.noun))
    return found


def suggestion(findings: list[Finding]) -> tuple[str, str | None]:
    """The verdict a photo's findings suggest to the clerk: ok, or fix with a reason."""
    if not findings:
        return "ok", None
    return "fix", findings[0].reason
