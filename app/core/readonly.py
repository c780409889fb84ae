"""Views that only read run their queries outside a transaction: no BEGIN, no ROLLBACK.

At READ COMMITTED (PostgreSQL's default, which we use) each statement sees its own snapshot whether
or not it runs inside a transaction, so a page that only reads gains nothing from one, yet pays two
round trips for it: BEGIN before its first query and ROLLBACK when the request ends. A view marked
@read_only takes its connection in autocommit mode instead, at its first query, so a page that
needs none (the home page from the catalog's copy) takes no connection at all; the pool puts the
connection back to the engine's default mode when it is returned.

A view that also takes a form (GET and POST) runs only its GET so; its POST has a transaction.

Only for views that never write on GET (a write there would commit statement by statement): each
one is requested in tests/core/test_read_only_views.py, on bench/journey.py's way through the app,
which checks that their GETs ran nothing but SELECT, all of it in autocommit, and their POSTs ran
in a transaction. Put it outside any check that reads the signed-in user (login_required, a staff
scope), or that query starts the transaction first. The journey's GET pages carry it: about 22
round trips a journey fewer (#19).

A GET that did run in a transaction (a page not marked, or one whose reading began it) ends it
with COMMIT, not ROLLBACK, when it answers without error and its transaction ran only plain
SELECTs (end_read_transaction). To PostgreSQL the two are then the same, but psycopg forgets every
statement it has prepared on that connection at each ROLLBACK (psycopg/_preparing.py), and it
prepares a statement only once it has run five times: one such page a journey kept almost all the
web's statements from ever being prepared (#19).
"""

import logging
from functools import wraps

from flask import request
from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import AUTOCOMMIT_TWINS, READS_IN_AUTOCOMMIT, db

READ_ONLY_VIEWS: set[str] = set()  # qualified names, for the test
log = logging.getLogger(__name__)


# Statements psycopg keeps prepared per connection (its default is 100): the journey alone
# prepares 111, and past the limit each new one evicts (DEALLOCATE) the least recently used.
PREPARED_MAX = 500
_WROTE = "palm_wrote"  # on a connection's info: its transaction ran something but a plain SELECT


def init_app(app) -> None:
    app.after_request(end_read_transaction)
    with app.app_context():
        twins = app.extensions[AUTOCOMMIT_TWINS] = {}
        for engine in db.engines.values():
            twins[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name != "postgresql":  # SQLite prepares nothing across requests
                continue
            for name, listener in (("connect", _room_to_prepare), ("begin", _nothing_written),
                                   ("before_cursor_execute", _note_write)):
                if not event.contains(engine, name, listener):
                    event.listen(engine, name, listener)


def _room_to_prepare(dbapi_connection, _record) -> None:
    dbapi_connection.prepared_max = PREPARED_MAX


def _nothing_written(connection) -> None:
    connection.info.pop(_WROTE, None)


def _note_write(connection, _cursor, statement, *_args) -> None:
    """Anything but a plain SELECT (INSERT, UPDATE, DELETE, WITH, a row lock: FOR UPDATE or FOR
    SHARE) counts as a write, so that a doubt ends in ROLLBACK, as every GET did before."""
    if not statement.startswith("SELECT") or " FOR " in statement:
        connection.info[_WROTE] = True


def end_read_transaction(response):
    """After a GET that answered without error, on PostgreSQL: COMMIT its transaction if it ran
    nothing but plain SELECTs, where ROLLBACK would drop psycopg's prepared statements (module
    doc). A GET that flushed, updated or locked rows, meaning to throw that away, or that left a
    change unsaved, is still rolled back. SQLite prepares nothing across requests: its GETs roll
    back as ever. Cheapest checks first: most requests used no session, or only in autocommit."""
    if request.method not in ("GET", "HEAD") or response.status_code >= 400:
        return response
    if not db.session.registry.has():  # no query at all: make no session here
        return response
    session = db.session()
    if not session.in_transaction():
        return response
    connection = session.connection()
    if (connection.dialect.name != "postgresql"
            or connection.connection.dbapi_connection.info.transaction_status
            is not TransactionStatus.INTRANS  # @read_only's autocommit: nothing to end
            or session.new or session.dirty or session.deleted
            or connection.info.get(_WROTE)):
        return response
    # The page's objects stay loaded: a later hook reading current_user reloads nothing.
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    except SQLAlchemyError:  # the connection went away after the page was made: the page stands
        log.warning("a reading GET's COMMIT failed; rolled back", exc_info=True)
        session.rollback()
    finally:
        session.expire_on_commit = expire
    return response


def read_only(view):
    READ_ONLY_VIEWS.add(f"{view.__module__}.{view.__qualname__}")

    @wraps(view)
    def wrapper(*args, **kwargs):
        session = db.session()  # the request's Session behind the scoped proxy
        if request.method not in ("GET", "HEAD") or session.in_transaction():
            return view(*args, **kwargs)
        # Its first query takes an autocommit connection (app.extensions.PalmSession); none is
        # taken before, so a page that needs no query (served from the catalog's copy) takes
        # none. The mark lasts one transaction, or this view if it began none.
        marked = not session.info.get(READS_IN_AUTOCOMMIT)  # not already, by a calling view
        session.info[READS_IN_AUTOCOMMIT] = True
        try:
            return view(*args, **kwargs)
        finally:
            if marked and not session.in_transaction():
                session.info.pop(READS_IN_AUTOCOMMIT, None)

    return wrapper
