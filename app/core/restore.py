"""页面已过期: a refused unsafe request is never done for the person; they go back and do it.

When a form's CSRF token has expired, errors.py answers 400 with this module's page: it says
nothing was done, shows what was typed, and links back to the page the form was on (the Referer,
when it is this site, else the form's own address when that is a page). The typed fields wait in
the session for that page, which renders them into a hidden element; static/js/app.js puts them
back into the form posting to the same address, for the person to check and send themselves.
Passwords and codes are never kept.
"""

import json
from urllib.parse import urlsplit

from flask import current_app, g, request, session

from app.core.redirects import safe_target

KEY = "restore_form"
SECRET = ("csrf_token", "password", "current", "new", "again", "code", "idem", "next")
MAX_JSON = 1500  # the session is a cookie: a long text is shown on the page instead


def typed_fields() -> dict[str, str]:
    """What the person typed into the refused form, without secrets, files or empty fields."""
    fields = {}
    for name, value in request.form.items(multi=True):
        if name in SECRET or "password" in name or not value.strip():
            continue
        fields[name] = value if name not in fields else fields[name] + "\n" + value
    return fields


def way_back() -> str:
    """The page the refused form was on: the Referer when it is this site, else the form's own
    address when that is a page, else the home page."""
    referer = urlsplit(request.referrer or "")
    if referer.netloc == request.host and referer.scheme in ("http", "https"):
        back = referer.path + (f"?{referer.query}" if referer.query else "")
        return safe_target(back)
    adapter = current_app.url_map.bind_to_environ(request.environ)
    return request.path if adapter.test(request.path, method="GET") else "/"


def keep(fields: dict[str, str]) -> None:
    """Leave the fields for the next page that shows the form (once)."""
    data = {"action": request.path, "fields": fields}
    if fields and len(json.dumps(data, ensure_ascii=False)) <= MAX_JSON:
        session[KEY] = data
        g.restore_kept = True


def take() -> dict | None:
    """For base.html: the fields left by an earlier refusal, handed out once, to a full page."""
    if g.get("restore_kept") or request.method != "GET" or KEY not in session:
        return None
    data = session.pop(KEY)
    return {"action": data["action"], "fields": json.dumps(data["fields"], ensure_ascii=False)}
