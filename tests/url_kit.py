"""Build a request path for any rule of the URL map (the access matrix and the id tests)."""

import re

from werkzeug.routing.converters import AnyConverter, NumberConverter

WORDS = {"kind": "application", "fmt": "yaml", "token": "abcdefghijkl", "code": "X-1",
         "action": "review", "filename": "css/app.css"}
# A rule's variable parts as written: `<name>`, `<conv:name>` or `<conv(args):name>`.
PART = re.compile(r"<(?:(?P<conv>\w+)(?:\((?P<args>.*?)\))?:)?(?P<name>\w+)>")


def _parts(rule) -> list[tuple[str, type, list[str]]]:
    """Each variable part's name, converter class and `any(...)` choices, read from the rule's
    text and its map's public converter table (Werkzeug keeps the built converters private)."""
    parts = []
    for match in PART.finditer(rule.rule):
        conv = rule.map.converters[match["conv"] or "default"]
        choices = [a.strip().strip("'\"") for a in (match["args"] or "").split(",") if a.strip()]
        parts.append((match["name"], conv, choices))
    assert {name for name, _, _ in parts} == rule.arguments, rule.rule  # none missed
    return parts


def int_args(rule) -> list[str]:
    """The parts of the rule that are numbers (ids)."""
    return [name for name, conv, _ in _parts(rule) if issubclass(conv, NumberConverter)]


def path(rule, ids: dict | int, words: dict | None = None) -> str:
    """The rule's path: `ids` (a number for every id, or one per name), the first choice of an
    `any(...)` part, and a harmless word for the rest."""
    values = {}
    for name, conv, choices in _parts(rule):
        if issubclass(conv, NumberConverter):
            values[name] = ids if isinstance(ids, int) else ids[name]
        elif issubclass(conv, AnyConverter):
            values[name] = (words or {}).get(name) or sorted(choices)[0]
        else:
            values[name] = (words or {}).get(name) or WORDS.get(name, "x")
    return rule.build(values, append_unknown=False)[1]
