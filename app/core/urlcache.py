"""The Flask class of the app: `url_for` remembers the URLs it has built.

Every page builds a dozen or more URLs (the tab bar, the versioned static files, the links of a
list) and Werkzeug builds each one from the URL rule again: about a third of the time it takes to
render the page shell. A URL depends only on the endpoint, the values and the request's URL
adapter (host, script root, scheme), so it is kept per process under exactly those, and built
again for anything else: relative endpoints are resolved first; calls with `_method` or `_anchor`,
with a value that is not a plain str, int, float, bool or None (a list, an object), outside a
request, or in an app with `url_defaults` functions are not cached at all.

It also remembers which hooks and views are plain functions: Flask asks `inspect` whether each of
them is a coroutine function on every request (a dozen hooks per request here).
"""

from flask import Flask
from flask.globals import _cv_request

MAX_URLS = 4096  # then start over: links to many records must not grow the process without end
MAX_FUNCTIONS = 4096  # hooks and views are a fixed few; the cap only guards against a leak
PLAIN = frozenset({str, int, float, bool, type(None)})  # values whose text never changes


class App(Flask):
    """Flask, with a per-process cache of the URLs that `url_for` builds during requests."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._url_cache: dict = {}
        self._plain_functions: set = set()

    def ensure_sync(self, func):
        if func in self._plain_functions:
            return func
        wrapped = super().ensure_sync(func)
        if wrapped is func and len(self._plain_functions) < MAX_FUNCTIONS:
            self._plain_functions.add(func)
        return wrapped

    def url_for(self, /, endpoint: str, *, _anchor: str | None = None,
                _method: str | None = None, _scheme: str | None = None,
                _external: bool | None = None, **values) -> str:
        req_ctx = _cv_request.get(None)
        if req_ctx is None or _anchor is not None or _method is not None \
                or any(self.url_default_functions.values()):
            return super().url_for(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme,
                                   _external=_external, **values)
        if endpoint[:1] == ".":  # relative to the request's blueprint, as Flask resolves it
            blueprint = req_ctx.request.blueprint
            endpoint = f"{blueprint}{endpoint}" if blueprint is not None else endpoint[1:]
        if not all(type(v) in PLAIN for v in values.values()):  # a list, an object: as Flask
            return super().url_for(endpoint, _scheme=_scheme, _external=_external, **values)
        adapter = req_ctx.url_adapter
        # The type is part of the key: url_for(page=1) and url_for(page=True) differ.
        key = (endpoint, _scheme, _external, adapter.server_name, adapter.script_name,
               adapter.subdomain, adapter.url_scheme,
               tuple((k, type(v), v) for k, v in sorted(values.items())))
        url = self._url_cache.get(key)
        if url is None:
            url = super().url_for(endpoint, _scheme=_scheme, _external=_external, **values)
            if len(self._url_cache) >= MAX_URLS:
                self._url_cache.clear()
            self._url_cache[key] = url
        return url
