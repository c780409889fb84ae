"""One line and one latency sample per request, under a request id the response carries back.

The id comes from the X-Request-ID header when it is well formed (nginx sends its $request_id),
and is made up otherwise. It is bound for the whole request, after_request hooks and inline jobs
included, and jobs enqueued meanwhile keep it (app/jobs.py stores it on the outbox row).
"""

import logging
import re
import time
import uuid

from flask import g, request

from app.core import logcontext as context
from app.core.privacy import redact
from app.ops import logs, metrics

log = logging.getLogger("app.request")

REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_from(header: str | None) -> str:
    """The incoming id if well formed (and no phone or ID number), else a new one."""
    if header and REQUEST_ID_RE.fullmatch(header) and redact(header) == header:
        return header
    while True:  # about one id in 10,000 holds 11 digits that read as a phone number
        rid = uuid.uuid4().hex
        if redact(rid) == rid:
            return rid


class RequestLogMiddleware:
    """WSGI middleware outside Flask, so the time and the line cover every hook and error."""

    def __init__(self, wsgi_app, config):
        self.wsgi_app, self.config = wsgi_app, config

    def __call__(self, environ, start_response):
        rid = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ["palm.request_id"] = rid
        method = environ.get("REQUEST_METHOD", "GET")
        path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) or "/"
        token = context.bind(request_id=rid, method=method, path=redact(path))
        status = [500]

        def start(status_line, headers, exc_info=None):
            status[0] = int(status_line.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-ID", rid))
            return start_response(status_line, headers, exc_info)

        started = time.perf_counter()
        try:
            return self.wsgi_app(environ, start)
        finally:
            seconds = time.perf_counter() - started
            endpoint = environ.get("palm.endpoint") or "none"
            metrics.observe_request(endpoint, method, status[0], seconds)
            duration_ms = round(seconds * 1000, 1)
            log.info("%s %s %s %sms", method, path, status[0], duration_ms,
                     extra={"status": status[0], "duration_ms": duration_ms,
                            "endpoint": endpoint})
            context.reset(token)
            logs.served_by(self.config)


def _user_id() -> str | None:
    # Set by the user loader (app/auth/sessions.py) when this request loaded a signed-in person;
    # a request that never asked who is signed in (a static file) is logged without one.
    value = g.get("signed_in_user_id")
    return str(value) if value is not None else None


def init_app(app) -> None:
    """Wrap the app, and tell the middleware the endpoint and user of each request."""

    @app.after_request
    def _note_request(response):
        # An unmatched URL keeps endpoint "none", so scanners cannot grow the label set.
        request.environ["palm.endpoint"] = request.endpoint or "none"
        user_id = _user_id()
        context.update(user_id=user_id)
        return response

    app.wsgi_app = RequestLogMiddleware(app.wsgi_app, app.config)
