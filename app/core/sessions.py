"""Flask's signed-cookie session, with its serializer built once per key.

Flask builds a new URLSafeTimedSerializer to open the session and again to save it, and building
one serializes an empty dict to learn its type: some 5% of the work of a cached catalog page
for a first-time visitor. The serializer holds nothing but its keys and settings, so one per set of
keys serves every request; a changed SECRET_KEY or SECRET_KEY_FALLBACKS builds a new one.
"""

from flask.sessions import SecureCookieSessionInterface


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
