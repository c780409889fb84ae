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
"""

from functools import wraps

from flask import request

from app.extensions import db

READ_ONLY_VIEWS: set[str] = set()  # qualified names, for the test


def read_only(view):
    READ_ONLY_VIEWS.add(f"{view.__module__}.{view.__qualname__}")

    @wraps(view)
    def wrapper(*args, **kwargs):
        session = db.session()  # the request's Session behind the scoped proxy
        if request.method in ("GET", "HEAD") and not session.in_transaction():
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return view(*args, **kwargs)

    return wrapper
