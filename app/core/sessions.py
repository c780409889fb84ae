"""Flask's signed-cookie session, with its serializer built once per key, and left alone by the
files a browser fetches on its own.

Flask builds a new URLSafeTimedSerializer to open the session and again to save it, and building
one serializes an empty dict to learn its type: some 5% of the work of a cached catalog page
for a first-time visitor. The serializer holds nothing but its keys and settings, so one per set of
keys serves every request; a changed SECRET_KEY or SECRET_KEY_FALLBACKS builds a new one.

The service worker's update check, the manifest and static files are fetched beside the page, with
whatever cookie the browser held when they started. Were they to save the session (Flask-Login
marks it not fresh when the address or browser string changes, as on a phone moving from Wi-Fi to
4G), a reply that lands after the page's would put back an older cookie: one without the page's
CSRF token, so the next tap on 退出 or 提交 is refused as expired. They never write the cookie.
The offline page is one of them: the worker precaches it on its first install, beside the first
tap on the page that registered it. Flask-Login marks a new visitor's session not fresh on their
second request, so both replies carried a cookie, and the worker's, landing last, dropped what
the tap had stored (a 一号查询 lost its number and asked for a code again).
"""

from flask import request
from flask.sessions import SecureCookieSessionInterface

# Endpoints whose replies never set or delete the session cookie (see the module's docstring).
SESSIONLESS = frozenset({"static", "pages.service_worker", "pages.manifest", "pages.offline"})


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers: dict[tuple, object] = {}

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {keys: serializer}  # only the current keys are kept
        return serializer

    def save_session(self, app, session, response):
        if request.endpoint in SESSIONLESS:
            return None
        return super().save_session(app, session, response)
