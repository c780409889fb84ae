"""Views that only read run their queries outside a transaction: no BEGIN, no ROLLBACK.

At READ COMMITTED (PostgreSQL's default, which we use) each statement sees its own snapshot whether
or not it runs inside a transaction, so a page that only reads gains nothing from one, yet pays two
round trips for it: BEGIN before its first query and ROLLBACK when the request ends. A view marked
@read_only takes its connection in autocommit mode instead; the pool puts the connection back to
the engine's default mode when it is returned.

A view that also takes a form (GET and POST) runs only its GET so; its POST has a transaction.

Only for views that never write on GET (a write there would commit statement by statement): each
one is requested in tests/core/test_read_only_views.py, on bench/journey.py's way through the app,
which checks that their GETs ran nothing but SELECT, all of it in autocommit, and their POSTs ran
in a transaction. Put it outside any check that reads the signed-in user (login_required, a staff
scope), or that query starts the transaction first. The journey's GET pages carry it: about 22
round trips a journey fewer (#19).

A GET that did run in a transaction (a page not marked, or one whose reading began it) ends it
with COMMIT, not ROLLBACK, when it answers without error and holds no unflushed change
(end_read_transaction). To PostgreSQL the two are the same for a transaction that only read, but
psycopg forgets every statement it has prepared on that connection at each ROLLBACK
(psycopg/_preparing.py), so one such page a journey kept the web's statements from ever being
prepared. A page that changed an object and meant to throw the change away still rolls back.
"""

from functools import wraps

from flask import request
from sqlalchemy import event

from app.extensions import db

READ_ONLY_VIEWS: set[str] = set()  # qualified names, for the test


# Statements psycopg keeps prepared per connection (its default is 100): the journey alone
# prepares 111, and past the limit each new one evicts (DEALLOCATE) the least recently used.
PREPARED_MAX = 500


def init_app(app) -> None:
    app.after_request(end_read_transaction)
    with app.app_context():
        for engine in db.engines.values():
            if not event.contains(engine, "connect", _room_to_prepare):
                event.listen(engine, "connect", _room_to_prepare)


def _room_to_prepare(dbapi_connection, _record) -> None:
    if hasattr(dbapi_connection, "prepared_max"):  # psycopg's; SQLite prepares nothing
        dbapi_connection.prepared_max = PREPARED_MAX


def end_read_transaction(response):
    """After a GET that answered without error: end its transaction with COMMIT (module doc)."""
    if request.method in ("GET", "HEAD") and response.status_code < 400:
        session = db.session()
        if session.in_transaction() and not (session.new or session.dirty or session.deleted):
            session.commit()
    return response


def read_only(view):
    READ_ONLY_VIEWS.add(f"{view.__module__}.{view.__qualname__}")

    @wraps(view)
    def wrapper(*args, **kwargs):
        session = db.session()  # the request's Session behind the scoped proxy
        if request.method in ("GET", "HEAD") and not session.in_transaction():
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return view(*args, **kwargs)

    return wrapper
