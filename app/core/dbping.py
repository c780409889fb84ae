"""Check a pooled database connection before use only when it has sat idle.

SQLAlchemy's pool_pre_ping checks every connection on every checkout: one more round trip on every
request, about a tenth of a signed-in page. A connection handed back a moment ago is as good as the
request that used it found it, so this checks only connections that have been idle IDLE_SECONDS or
more (a database restart, or an idle timeout in between, is when they go stale). A connection that
fails the check is thrown away and the pool opens another (DisconnectionError on checkout), as
pre-ping does. A connection dropped while in use fails that request, as it would with pre-ping, and
so does one dropped less than IDLE_SECONDS before its next use; SQLAlchemy then recycles every
older connection of the pool, so a database restart costs a worker at most that one request.
"""

import time
import weakref

from sqlalchemy import event, exc

IDLE_SECONDS = 10.0


_installed: "weakref.WeakSet" = weakref.WeakSet()


def install(engine) -> None:
    """Listen on this engine's pool (once per engine)."""
    if engine in _installed:
        return
    _installed.add(engine)
    dialect = engine.dialect

    def fresh(_dbapi_connection, record) -> None:
        """Just opened or just handed back: known good as of now."""
        record.info["palm_idle_since"] = time.monotonic()

    def checkout(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("palm_idle_since")
        if since is not None and time.monotonic() - since < IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure: the pool opens a new connection
            raise exc.DisconnectionError(
                f"stale pooled connection: {type(error).__name__}") from error

    event.listen(engine, "connect", fresh)
    event.listen(engine, "checkin", fresh)
    event.listen(engine, "checkout", checkout)
