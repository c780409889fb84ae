"""Public catalog pages as plain HTTP resources that nginx and phones may keep.

Home, a guide, a bundle and the search page show every visitor who is not signed in the same
HTML for the same URL, care mode (a cookie), htmx or not (a header) and, on the home page, the
recently viewed list (a cookie). They hold no per-visitor token (their forms are GET forms; the
care switch and sign-in have pages of their own) and set no cookie, so they are answered with:

- an ETag from the catalog's revision and ranking, the release of the app and those inputs: a
  phone that has the page gets a 304 without it being rendered again, and each worker renders
  the page once per ETag (PUBLIC_PAGE_REUSE);
- Cache-Control "public, max-age=0, s-maxage=PUBLIC_PAGE_SECONDS": nginx (deploy/nginx.conf)
  keeps the page that many seconds for everyone without a session cookie, and phones always
  revalidate, so a catalog edit shows within those seconds;
- Vary: Cookie, HX-Request, for any cache that keys on the request's headers.

A signed-in person, or a session holding a message or a form to restore, gets the page rendered
for them alone (app.core.security marks a signed-in person's pages private, no-store).
"""

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from flask import current_app, get_flashed_messages, make_response, request, session
from flask_login import current_user

from app.catalog import cache
from app.core import restore
from app.core.care import care_mode

SHARED_METHODS = frozenset(("GET", "HEAD"))


def shared() -> bool:
    """Whether this request gets the page every anonymous visitor gets."""
    return (request.method in SHARED_METHODS and not current_user.is_authenticated
            and restore.KEY not in session and not get_flashed_messages())


def public_page(render: Callable[..., str], *inputs: str | None):
    """The response for a public page: `render(public_page=...)` builds its HTML.

    `inputs`: anything else the page reads from the request (the home page's cookie). When the
    page is shared, `render` is called only if the phone's copy (If-None-Match) is stale.
    """
    if not shared():
        return make_response(render(public_page=False))
    tag = etag(*inputs)
    if request.if_none_match.contains_weak(tag):  # weak too: nginx's gzip weakens ETags
        response = current_app.response_class(status=304)
    else:
        response = make_response(_html(tag, render))
    response.set_etag(tag)
    response.cache_control.public = True
    response.cache_control.max_age = 0
    response.cache_control.s_maxage = int(current_app.config["PUBLIC_PAGE_SECONDS"])
    response.vary.update(("Cookie", "HX-Request"))
    return response


def _html(tag: str, render: Callable[..., str]) -> str:
    """The shared page's HTML. The tag names everything the HTML depends on, so each worker
    renders a page once per tag and keeps it with the catalog copy (cache.fragment), which a
    new revision drops: a phone without the page, or nginx refilling its cache, then costs a
    look-up instead of a render. Off in debug, where every request has its own tag, and under
    test unless PUBLIC_PAGE_REUSE is set (tests change settings between requests)."""
    config = current_app.config
    if current_app.debug or not config["PUBLIC_PAGE_REUSE"]:
        return render(public_page=True)
    return cache.fragment(("page", tag), lambda: render(public_page=True))


def etag(*inputs: str | None) -> str:
    """What the page's HTML depends on, its URL included, as one short tag."""
    snap = cache.snapshot()
    parts = (request.full_path, release(), str(snap.version), snap.ranking,
             "care" if care_mode() else "",
             "hx" if request.headers.get("HX-Request") else "", *(i or "" for i in inputs))
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def release() -> str:
    """A digest of the templates, static files and code this process serves, so that a new
    release changes every page's ETag; computed once per process. In debug, where templates
    reload, a new one for each request: no 304 there."""
    app = current_app
    if app.debug:
        return str(time.time_ns())
    known = app.extensions.get("palm_release")
    if known is None:
        digest = hashlib.blake2b(digest_size=12)
        for folder, pattern in ((app.template_folder, "*"), (app.static_folder, "*"),
                                (app.root_path, "*.py")):
            for path in sorted(Path(folder).rglob(pattern)):
                if path.is_file():
                    digest.update(path.name.encode())
                    digest.update(path.read_bytes())
        known = app.extensions["palm_release"] = digest.hexdigest()
    return known
