"""Build a request path for any rule of the URL map (the access matrix and the id tests)."""

from werkzeug.routing.converters import AnyConverter, NumberConverter

WORDS = {"kind": "application", "fmt": "yaml", "token": "abcdefghijkl", "code": "X-1",
         "action": "review", "filename": "css/app.css"}


def int_args(rule) -> list[str]:
    """The parts of the rule that are numbers (ids)."""
    return [name for name, conv in rule._converters.items() if isinstance(conv, NumberConverter)]


def path(rule, ids: dict | int, words: dict | None = None) -> str:
    """The rule's path: `ids` (a number for every id, or one per name), the first choice of an
    `any(...)` part, and a harmless word for the rest."""
    values = {}
    for name, conv in rule._converters.items():
        if isinstance(conv, NumberConverter):
            values[name] = ids if isinstance(ids, int) else ids[name]
        elif isinstance(conv, AnyConverter):
            values[name] = (words or {}).get(name) or sorted(conv.items)[0]
        else:
            values[name] = (words or {}).get(name) or WORDS.get(name, "x")
    return rule.build(values, append_unknown=False)[1]
