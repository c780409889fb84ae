"""Public catalog pages rendered once for every anonymous visitor, each getting its own token.

A guide, a bundle, the search page and the home page show every visitor who is not signed in the
same HTML, apart from a few inputs of the request: the CSRF token of the visitor's session (in
base.html's hx-headers and in forms), care mode, the URL itself (the care toggle's `next`), the
host, whether it is opened in WeChat, and (home page) the recently viewed cookie. Rendering that
HTML is about half the work of such a request, so each combination of those inputs (`_key`) is
rendered once per catalog snapshot (it goes with the snapshot's fragments: a catalog edit or the
popularity re-ranking starts over), with a random marker where the token goes; each response gets
the marker replaced by the visitor's own token, from the visitor's own session.

Rendered as usual, never shared: anything but GET, a signed-in person (or a remember-me cookie), a
session holding flashed messages, a debug app (templates reload). A template of these pages that
starts to show anything else taken from the request or the session must add it to `_key`.
"""

import secrets

from flask import current_app, g, render_template, request, session
from flask_wtf.csrf import generate_csrf

from app.catalog import cache

# Per process and random, so no text of the catalog can spell it.
MARK = "palm-token-" + secrets.token_hex(16)
PAGES = ("pages",)  # the snapshot's fragment holding the stored pages
MAX_PAGES = 500  # of 10 to 30 KB each, per worker


def render_page(template: str, extra_key: tuple = (), **context) -> str:
    """render_template(template, **context), shared between anonymous visitors when it may be.

    `extra_key`: any further input the page reads from the request (the home page's cookie).
    """
    if not _shareable():
        return render_template(template, **context)
    pages = cache.snapshot().fragments.setdefault(PAGES, {})
    key = (template, *_key(), *extra_key)
    html = pages.get(key)
    if html is None:
        html = _render_marked(template, context)
        if len(pages) >= MAX_PAGES:  # many different URLs (query strings): start over
            pages.clear()
        pages[key] = html
    return html.replace(MARK, generate_csrf())


def _shareable() -> bool:
    if request.method != "GET" or current_app.debug or current_app.jinja_env.auto_reload:
        return False
    if "_user_id" in session or "_flashes" in session or "restore_form" in session:
        return False
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return remember not in request.cookies


def _key() -> tuple:
    from app.core.routes import CARE_COOKIE

    return (request.full_path, request.scheme, request.host, request.script_root,
            request.cookies.get(CARE_COOKIE) == "1",
            "MicroMessenger" in request.headers.get("User-Agent", ""),
            bool(request.headers.get("HX-Request")))


def _render_marked(template: str, context: dict) -> str:
    """The page with MARK where csrf_token() goes (Flask-WTF returns g's token when set)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    had = field in g
    saved = g.pop(field, None)
    setattr(g, field, MARK)
    try:
        return str(render_template(template, **context))
    finally:
        g.pop(field, None)
        if had:
            setattr(g, field, saved)
