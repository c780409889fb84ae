"""Log formats: one JSON object per line (LOG_FORMAT=json) or readable text, both redacted.

Every string that reaches a line (the message with its arguments, extra fields, the request and
job fields, the exception text) goes through app.core.privacy.redact, so a phone or ID number
never reaches the log whatever the code that logged it did.
"""

import json
import logging
import re
import threading
from datetime import UTC, datetime

from app.core import logcontext as context
from app.core.privacy import redact

FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record was passed with `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# werkzeug's development-server request line: '127.0.0.1 - - [...] "GET /path?q HTTP/1.1" 200 -'
_REQUEST_LINE = re.compile(r'"([A-Z]+) (\S+) (HTTP/[\d.]+)"')
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours request lines on a terminal
# The LOG_FORMAT of the app that served this thread's last request: werkzeug logs its request
# line in the same thread just after, outside any app context.
_served = threading.local()


def _clean(value):
    """Redact strings, recursively; anything JSON cannot hold becomes its (redacted) text."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_clean(v) for v in value]
    return redact(str(value))


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string must not lose the line
        return f"{record.msg!s} {record.args!r}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the context and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
            "pid": record.process,
        }
        entry.update(_gunicorn_access(record))
        entry.update(context.current())
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(_clean(entry), ensure_ascii=False, separators=(",", ":"))


def _gunicorn_access(record: logging.LogRecord) -> dict:
    """gunicorn's access record, if one is routed here, as fields (path without its query)."""
    if record.name != "gunicorn.access" or not hasattr(record.args, "get"):
        return {}
    atoms = record.args
    fields = {"method": atoms.get("m"), "path": atoms.get("U"),
              "request_id": atoms.get("{x-request-id}o")}
    try:
        fields["status"] = int(atoms.get("s"))
        fields["duration_ms"] = round(int(atoms.get("D")) / 1000, 1)
    except (TypeError, ValueError):
        pass
    return {k: v for k, v in fields.items() if v not in (None, "-")}


class TextFormatter(logging.Formatter):
    """The readable development format, with the request or job fields appended, redacted."""

    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = context.current()
        keys = ("request_id", "user_id", "job", "job_id")
        suffix = " ".join(f"{k}={fields[k]}" for k in keys if fields.get(k) is not None)
        return redact(f"{line} [{suffix}]" if suffix else line)


class WerkzeugRequestFilter(logging.Filter):
    """The dev server's own request lines: query strings removed; dropped when the app logs JSON.

    The app writes its own request line (with the request id) either way; in JSON mode werkzeug's
    line would be a second, id-less copy of it.
    """

    def __init__(self, default: str):
        super().__init__()
        self.default = default

    def filter(self, record: logging.LogRecord) -> bool:
        message = _ANSI.sub("", _message(record))
        match = _REQUEST_LINE.search(message)
        if not match:
            return True
        if (getattr(_served, "fmt", None) or self.default) == "json":
            return False
        method, target, version = match.groups()
        line = f'"{method} {target.split("?", 1)[0]} {version}"'
        record.msg, record.args = message[:match.start()] + line + message[match.end():], None
        return True


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def init_app(app) -> None:
    """Pick the format and put it on the app's console handler (app/factory.py, _logging)."""
    fmt = app.config["LOG_FORMAT"]
    if fmt not in FORMATS:
        raise RuntimeError(f"LOG_FORMAT must be json or text, not {fmt!r}")
    app.config["LOG_FORMAT"] = fmt
    # Neither format shows the thread or process, so don't collect them for every record (the
    # Logging HOWTO's "Optimization", through the module's public switches).
    logging.logThreads = False
    logging.logMultiprocessing = False
    for handler in logging.getLogger().handlers:
        # Ours from app/factory.py's _logging; gunicorn's JSON handler (deploy/gunicorn.conf.py)
        # is left as is.
        if handler.get_name() == "palm":
            handler.setFormatter(formatter(fmt))
    werkzeug = logging.getLogger("werkzeug")
    for old in [f for f in werkzeug.filters if isinstance(f, WerkzeugRequestFilter)]:
        werkzeug.removeFilter(old)
    werkzeug.addFilter(WerkzeugRequestFilter(fmt))


def served_by(config) -> None:
    """Note the format of the app answering in this thread (see WerkzeugRequestFilter)."""
    _served.fmt = config.get("LOG_FORMAT")
