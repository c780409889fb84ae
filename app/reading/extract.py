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
# Below this confidence a name read from the photo is kept for the clerk but never claimed to
# differ from what was typed: a doubtful character is likelier a misreading than a mistake.
CONFIDENT = 0.9
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
    uncertain: list = field(default_factory=list)  # read, but from a box the engine doubted


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


@dataclass(frozen=True)
class Box:
    """One box's text in a row, with its confidence."""

    text: str
    score: float


def rows(lines: list[Line]) -> list[list[Box]]:
    """The boxes put into rows, top to bottom, each row read left to right."""
    if not lines:
        return []
    shapes = [_geometry(line) for line in lines]
    wide = [angle for (_, _, h, angle), line in zip(shapes, lines, strict=True)
            if len(line.text) >= 4]
    tilt = statistics.median(wide) if wide else 0.0
    cos, sin = math.cos(-tilt), math.sin(-tilt)
    placed = []
    for (cx, cy, height, _), line in zip(shapes, lines, strict=True):
        placed.append((cx * sin + cy * cos, cx * cos - cy * sin, height,
                       Box(_clean(line.text), line.score)))
    placed.sort(key=lambda p: (p[0], p[1]))
    grouped: list[list[tuple]] = []
    for item in placed:
        last = grouped[-1] if grouped else None
        if last and abs(item[0] - last[-1][0]) < 0.6 * min(item[2], last[-1][2]):
            last.append(item)
        else:
            grouped.append([item])
    return [[box for _, _, _, box in sorted(g, key=lambda i: i[1])] for g in grouped]


def row_text(row: list[Box]) -> str:
    return "".join(box.text for box in row)


def _clean(text: str) -> str:
    return re.sub(r"[\s::]", "", text)


def _label_at(text: str, label: str) -> int:
    at = text.find(label)
    while at >= 0 and label == "姓名" and text[max(0, at - 2):at] in NOT_NAME_BEFORE:
        at = text.find(label, at + 1)
    return at


def _cut(text: str) -> str:
    """A value up to the next label printed after it."""
    stop = len(text)
    for word in all_labels():
        found = text.find(word)
        if 0 <= found < stop:
            stop = found
    return text[:stop]


def _after(row: list[Box], label: str) -> tuple[str, float] | None:
    """What follows `label` in a row: the rest of its box, or else the next box; with the
    confidence of the box it came from. None when the label is not in the row."""
    for n, box in enumerate(row):
        at = _label_at(box.text, label)
        if at < 0:
            continue
        rest = _cut(box.text[at + len(label):])
        if rest or n + 1 == len(row):
            return rest, box.score
        following = row[n + 1]
        return _cut(following.text), following.score
    text = row_text(row)  # a label split over two boxes: read the row as one text
    at = _label_at(text, label)
    if at < 0:
        return None
    return _cut(text[at + len(label):]), min(box.score for box in row)


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


def _labelled(table: list[list[Box]], spec: FieldSpec) -> tuple[bool, list[tuple[str, float]]]:
    """Whether one of the field's labels shows (one misread character allowed), and the values
    that follow it exactly, with their confidence."""
    seen, values = False, []
    for row in table:
        text = row_text(row)
        for label in spec.labels:
            found = _after(row, label)
            if found is not None:
                values.append(found)
            seen = seen or found is not None or (len(label) >= 4 and _has(text, label))
    return seen, values


def _name(values: list[tuple[str, float]]) -> tuple[str, float] | None:
    for value, score in values:
        match = HAN_NAME_RE.fullmatch(value) or HAN_NAME_RE.match(value)
        if match and len(match.group(0)) <= 6 or match and "·" in match.group(0):
            return match.group(0), score
    return None


def _org(values: list[tuple[str, float]]) -> tuple[str, float] | None:
    for value, score in values:
        match = ORG_RE.search(value)
        if match:
            return normal_org(match.group(0)), score
    return None


def normal_org(name: str) -> str:
    """Company names compared without spaces and with one kind of bracket."""
    return _clean(name).replace("(", "(").replace(")", ")")


def _value(spec: FieldSpec, table: list[list[Box]]) -> tuple[bool, str | None, float]:
    """Whether the label shows, the value (numbers only when their check agrees) and how sure
    the engine was of it (a checked number is sure)."""
    seen, values = _labelled(table, spec)
    if spec.value in ("id_number", "credit_code"):
        search = id_numbers if spec.value == "id_number" else credit_codes
        near = [v for value, _ in values for v in search(value)]
        anywhere = [v for row in table for text in (row_text(row), *(b.text for b in row))
                    for v in search(text)]
        found = (near or anywhere or [None])[0]
        return seen or found is not None, found, 1.0
    found = _name(values) if spec.value == "person_name" else _org(values)
    return seen, *(found or (None, 0.0))


def _has(text: str, marker: str) -> bool:
    """The marker in the text; one of 4 or more characters also with one character misread,
    and one of 7 or more (统一社会信用代码, 常住人口登记卡) with two."""
    if marker in text:
        return True
    size = len(marker)
    if size < 4:
        return False
    allowed = 2 if size >= 7 else 1
    return any(sum(a != b for a, b in zip(text[i:i + size], marker, strict=True)) <= allowed
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
    good = [line for line in lines if line.score >= MIN_SCORE and _clean(line.text)]
    table = rows(good)
    texts = [row_text(row) for row in table]
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
        seen, value, score = _value(spec, table)
        if value:
            reading.fields[spec.key] = value
            if score < CONFIDENT:
                reading.uncertain.append(spec.key)
        elif seen:
            reading.unclear.append(spec.key)
    return reading
