"""Ids that come from the request: only numbers a row could have, anything else is "not found".

Every id column is an integer (PostgreSQL's 4 bytes), so a longer number cannot name a row;
asked for, SQLite overflows and PostgreSQL refuses the query, both a 500. `<int:...>` in every
route is `IdConverter` (create_app puts it in the URL map before any blueprint), which answers
404 before the view runs; numbers from forms and query strings go through `parse_id`.
"""

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


def _up_to(limit: int) -> str:
    """A regex for the decimal numbers 0..limit, so a larger one never matches the rule (404;
    a converter that matched and then refused would make Werkzeug answer 405 on some paths)."""
    digits = str(limit)
    parts = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        if d != "0":
            rest = len(digits) - i - 1
            parts.append(digits[:i] + f"[0-{int(d) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>`: 0 to MAX_ID in plain ASCII digits; anything else does not match (404)."""

    regex = _up_to(MAX_ID)

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 0,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(raw) -> int | None:
    """The id a form or query value names, or None when no row could have it."""
    text = str(raw if raw is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def parse_ids(values) -> list[int]:
    """Every value that could be an id, in order; the others are dropped."""
    return [v for v in (parse_id(raw) for raw in values) if v is not None]
