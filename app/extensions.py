"""Extension singletons, bound to the app in create_app()."""

from flask import current_app, request
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event, inspect
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic's autogenerate and SQLite batch mode predictable.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    @property
    def saved_id(self) -> int:
        """The id of a row already written, as the session knows it: after a commit `row.id`
        would read the whole row again, which a redirect to the row's page does not need."""
        return inspect(self).identity[0]


# On a Session's info: its next transaction runs in autocommit (app.core.readonly.read_only).
READS_IN_AUTOCOMMIT = "palm_reads_in_autocommit"
# In app.extensions: each engine's autocommit twin, made once by app.core.readonly.init_app
# (before any request, so no two threads race to make one; they die with the app).
AUTOCOMMIT_TWINS = "palm_autocommit_twins"


class PalmSession(Session):
    """Flask-SQLAlchemy's session (given to it as session_options' class_), which a @read_only
    view marks to read in autocommit: its first query then takes the connection from the engine's
    autocommit twin (Engine.execution_options, same pool), and a view that queries nothing (a page
    from the catalog's copy) takes no connection at all."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        chosen = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if bind is None and self.info.get(READS_IN_AUTOCOMMIT):
            # an engine without a twin (none made) reads in a transaction, as any other page
            return current_app.extensions.get(AUTOCOMMIT_TWINS, {}).get(chosen, chosen)
        return chosen


@event.listens_for(PalmSession, "after_transaction_end")
def _marked_for_one_transaction(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(READS_IN_AUTOCOMMIT, None)


db = SQLAlchemy(model_class=Base, session_options={"class_": PalmSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx_ext = HTMX()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


@limiter.request_filter
def _safe_request() -> bool:
    """Every limit here guards an unsafe request (sending a code, signing in, a lookup; a test
    holds every limit to that), so the limiter skips a GET at once instead of resolving limits."""
    return request.method in SAFE_METHODS
