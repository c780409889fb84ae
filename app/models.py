"""Every feature package, and the import of all models so Alembic sees the whole schema.

A feature is a package under app/ with a blueprint `bp` in its __init__ and, optionally,
`models.py` and `jobs.py`. Listing it here is all it takes to install it.
"""

import importlib
import importlib.util

FEATURES = ("core", "auth", "catalog", "sms", "booking", "applications", "progress", "ratings",
            "help", "feedback", "sso", "ops", "reading", "licences")


def installed_features() -> list[str]:
    """The features whose packages exist in this checkout."""
    return [name for name in FEATURES if importlib.util.find_spec(f"app.{name}") is not None]


def _modules(kind: str) -> list[str]:
    names = [f"app.{feature}.{kind}" for feature in installed_features()]
    return [name for name in names if importlib.util.find_spec(name) is not None]


def load_all() -> None:
    """Import every feature's models (and the outbox and links tables)."""
    importlib.import_module("app.jobs")
    importlib.import_module("app.core.links")
    importlib.import_module("app.core.workdays")
    for name in _modules("models"):
        importlib.import_module(name)


def job_modules() -> list[str]:
    """Every feature's jobs module."""
    return _modules("jobs")
