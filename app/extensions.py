"""Extension singletons, bound to the app in create_app()."""

from flask import request
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, inspect
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


db = SQLAlchemy(model_class=Base)
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
