"""From the text boxes OCR found on a photo to the document's kind and fields: pure functions.

OCR gives boxes (a quadrilateral, a text, a confidence), not lines: a label and its value are
often two boxes. The boxes are put back into rows (after undoing the photo's tilt), a field's
value is what follows its label in the row, and numbers are also looked for anywhere, since a
licence prints its credit code under the label rather than beside it. A number counts only when
its check character agrees, so a misread digit makes the field "unclear", not a wrong value.
"""

import math
import re
import statistics
from dataclasses import dataclass, field

from app.reading import codes
from app.reading.kinds import DocumentKind, FieldSpec, all_labels, kinds

MIN_CHARS = 6  # fewer characters than this (at MIN_SCORE) and the photo counts as unreadable
MIN_SCORE = 0.5
# What OCR reads in place of a digit in a run of digits (the check character sorts out the rest).
DIGIT_LOOKALIKES = str.maketrans({"O": "0", "D": "0", "Q": "0", "U": "0", "I": "1", "L": "1",
                                  "|": "1", "Z": "2", "S": "5", "B": "8", "G": "6", "A": "4",
                                  "T": "7", "×": "X"})
CREDIT_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"})
RUN_RE = re.compile(r"[0-9A-Za-z×|]{15,}")
HAN_NAME_RE = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff·]{1,14}")
ORG_RE = re.compile(r"[\u4e00-\u9fff0-9A-Za-z()()·]{4,60}")
NOT_NAME_BEFORE = ("户主", "曾用", "企业", "单位")  # 户主姓名 is not the person's own 姓名


@dataclass(frozen=True)
class Line:
    """One text box as OCR found it: its text, confidence and four corner points."""

    text: str
    score: float
    box: tuple = ()


@dataclass
class Reading:
    """What one photo says: how much text, which kind it looks like, the fields that passed."""

    chars: int
    scores: dict = field(default_factory=dict)  # kind code -> marker words found
    kind: str | None = None
    fields: dict = field(default_factory=dict)  # field key -> value (checked numbers only)
    unclear: list = field(default_factory=list)  # field keys whose label shows, value unread


def _geometry(line: Line) -> tuple[float, float, float, float]:
    """Centre x, centre y, height and angle (radians) of a box."""
    if not line.box:
        return 0.0, 0.0, 1.0, 0.0
    xs = [p[0] for p in line.box]
    ys = [p[1] for p in line.box]
    (x0, y0), (x1, y1) = line.box[0], line.box[1]
    angle = math.atan2(y1 - y0, x1 - x0) if x1 != x0 else 0.0
    height = max(1.0, math.dist(line.box[0], line.box[3]))
    return sum(xs) / 4, sum(ys) / 4, height, angle


def rows(lines: list[Line]) -> list[str]:
    """The boxes joined into rows of text, top to bottom, each read left to right."""
    if not lines:
        return []
    shapes = [_geometry(line) for line in lines]
    wide = [angle for (_, _, h, angle), line in zip(shapes, lines, strict=True)
            if len(line.text) >= 4]
    tilt = statistics.median(wide) if wide else 0.0
    cos, sin = math.cos(-tilt), math.sin(-tilt)
    placed = []
    for (cx, cy, height, _), line in zip(shapes, lines, strict=True):
        placed.append((cx * sin + cy * cos, cx * cos - cy * sin, height, line.text))
    placed.sort()
    grouped: list[list[tuple]] = []
    for item in placed:
        last = grouped[-1] if grouped else None
        if last and abs(item[0] - last[-1][0]) < 0.6 * min(item[2], last[-1][2]):
            last.append(item)
        else:
            grouped.append([item])
    return ["".join(t for _, _, _, t in sorted(g, key=lambda i: i[1])) for g in grouped]


def _clean(text: str) -> str:
    return re.sub(r"[\s::]", "", text)


def _after(row: str, label: str) -> str | None:
    """The text after `label` in a row, up to the next label; None when the label is absent."""
    at = row.find(label)
    while at >= 0 and label == "姓名" and row[max(0, at - 2):at] in NOT_NAME_BEFORE:
        at = row.find(label, at + 1)
    if at < 0:
        return None
    rest = row[at + len(label):]
    stop = len(rest)
    for word in all_labels():
        found = rest.find(word)
        if 0 <= found < stop:
            stop = found
    return rest[:stop]


def id_numbers(text: str) -> list[str]:
    """Every 18-character run that is a valid ID number once look-alike letters are digits."""
    found = []
    for run in RUN_RE.findall(_clean(text).upper()):
        digits = run.translate(DIGIT_LOOKALIKES)
        for start in range(0, len(digits) - 17):
            candidate = digits[start:start + 18]
            if codes.valid_id_number(candidate) and candidate not in found:
                found.append(candidate)
    return found


def credit_codes(text: str) -> list[str]:
    """Every 18-character run that passes the GB 32100 check, after look-alike letters."""
    found = []
    for run in RUN_RE.findall(_clean(text).upper()):
        mapped = run.translate(CREDIT_LOOKALIKES)
        for start in range(0, len(mapped) - 17):
            candidate = mapped[start:start + 18]
            # The region code (3rd to 8th characters) is digits: undo look-alikes there too.
            candidate = candidate[:2] + candidate[2:8].translate(DIGIT_LOOKALIKES) + candidate[8:]
            if codes.valid_credit_code(candidate) and candidate not in found:
                found.append(candidate)
    return found


def _labelled(texts: list[str], spec: FieldSpec) -> tuple[bool, list[str]]:
    """Whether one of the field's labels shows, and the values that follow it."""
    seen, values = False, []
    for row in texts:
        for label in spec.labels:
            value = _after(row, label)
            if value is not None:
                seen = True
                values.append(value)
    return seen, values


def _name(values: list[str]) -> str | None:
    for value in values:
        match = HAN_NAME_RE.search(value)
        if match and len(match.group(0)) <= 15:
            return match.group(0)
    return None


def _org(values: list[str]) -> str | None:
    for value in values:
        match = ORG_RE.search(value)
        if match:
            return normal_org(match.group(0))
    return None


def normal_org(name: str) -> str:
    """Company names compared without spaces and with one kind of bracket."""
    return _clean(name).replace("(", "(").replace(")", ")")


def _value(spec: FieldSpec, texts: list[str]) -> tuple[bool, str | None]:
    seen, values = _labelled(texts, spec)
    if spec.value in ("id_number", "credit_code"):
        search = id_numbers if spec.value == "id_number" else credit_codes
        near = [v for value in values for v in search(value)]
        anywhere = [v for row in texts for v in search(row)]
        found = (near or anywhere or [None])[0]
        return seen or found is not None, found
    if spec.value == "person_name":
        return seen, _name(values)
    return seen, _org(values)


def _has(text: str, marker: str) -> bool:
    """The marker in the text; a marker of 4 or more characters also with one misread."""
    if marker in text:
        return True
    size = len(marker)
    if size < 4:
        return False
    return any(sum(a != b for a, b in zip(text[i:i + size], marker, strict=True)) <= 1
               for i in range(len(text) - size + 1))


def _scores(text: str) -> dict[str, int]:
    return {code: sum(1 for m in kind.markers if _has(text, m)) for code, kind in kinds().items()}


def _kind(scores: dict[str, int], expected: str | None) -> str | None:
    """The kind with most markers among those with enough of them; ties go to the expected."""
    fits = [(n, code == expected, code) for code, n in scores.items()
            if n >= kinds()[code].min_markers]
    return max(fits)[2] if fits else None


def read(lines: list[Line], expected: str | None = None) -> Reading:
    """The kind and fields of a photo from its OCR boxes; `expected` is what the material is."""
    good = [line for line in lines if line.score >= MIN_SCORE and line.text.strip()]
    texts = [_clean(t) for t in rows(good)]
    whole = "".join(texts)
    reading = Reading(chars=len(whole), scores=_scores(whole))
    if any(credit_codes(row) for row in texts):  # a checked credit code is a marker too
        for code, kind in kinds().items():
            reading.scores[code] += any(spec.value == "credit_code" for spec in kind.fields)
    reading.kind = _kind(reading.scores, expected)
    kind: DocumentKind | None = kinds().get(reading.kind or "")
    if kind is None:
        return reading
    for spec in kind.fields:
        seen, value = _value(spec, texts)
        if value:
            reading.fields[spec.key] = value
        elif seen:
            reading.unclear.append(spec.key)
    return reading
