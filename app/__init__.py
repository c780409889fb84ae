"""Palm Service (掌上办): the app factory."""

import hashlib
import logging
from pathlib import Path

from flask import Flask, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as settings
from app.extensions import csrf, db, htmx_ext, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, overridden by `config` (tests pass one)."""
    from app.core.urlcache import App

    app = App(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"), instance_path=str(settings.INSTANCE))
    app.config.update(settings.from_env())
    if config:
        app.config.update(config)
    settings.check_production(app.config)
    if app.config.get("SEND_FILE_MAX_AGE_DEFAULT") is None:
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 86400  # static URLs are versioned
    if app.config["PROXY_FIX"]:
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _logging(app)
    from app.core.ids import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route: an id past MAX_ID is 404
    _extensions(app)
    _blueprints(app)
    _templates(app)
    from app import cli

    cli.init_app(app)
    return app


def _logging(app: Flask) -> None:
    from app.core.privacy import RedactingFilter

    redactor = RedactingFilter()
    for handler in logging.getLogger().handlers + [logging.lastResort]:
        if handler and redactor not in handler.filters:
            handler.addFilter(redactor)
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", "app"):
        logger = logging.getLogger(name)
        if redactor not in logger.filters:
            logger.addFilter(redactor)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for handler in logging.getLogger().handlers:
            handler.addFilter(redactor)
            handler.set_name("palm")  # app.ops.logs gives it the LOG_FORMAT formatter


def _extensions(app: Flask) -> None:
    from app import jobs
    from app.auth import sessions
    from app.core import dbping, errors, security
    from app.core.sessions import CachedSerializerSessionInterface

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            dbping.install(engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    htmx_ext.init_app(app)
    limiter.init_app(app)
    _limit_unsafe_requests_only(app)
    app.session_interface = CachedSerializerSessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"
    login_manager.user_loader(sessions.load_user)  # a live sign-in, not a bare id
    jobs.init_app(app)
    security.init_app(app)
    errors.init_app(app)


SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def _limit_unsafe_requests_only(app: Flask) -> None:
    """Run Flask-Limiter's per-request hooks for unsafe requests only.

    Every limit here guards a POST (sending a code, signing in, a lookup; a test holds every
    limit to that), so a GET never spends one, yet resolving that in the limiter's before, after
    and teardown hooks cost about a tenth of a cached catalog page. The decorators still check
    their own views either way.
    """
    from functools import partial

    from flask import request

    def ours(hook) -> bool:
        return getattr(hook, "__self__", None) is limiter or (
            isinstance(hook, partial) and limiter in hook.args)

    def before(hook):
        return lambda: hook() if request.method not in SAFE_METHODS else None

    def after(hook):
        return lambda response: (hook(response) if request.method not in SAFE_METHODS
                                 else response)

    def teardown(hook):
        def run(exc):
            if request.method not in SAFE_METHODS:
                hook(exc)
        return run

    for hooks, wrap in ((app.before_request_funcs, before), (app.after_request_funcs, after),
                        (app.teardown_request_funcs, teardown)):
        found = hooks.get(None, [])
        for index, hook in enumerate(found):
            if ours(hook):
                found[index] = wrap(hook)


def _blueprints(app: Flask) -> None:
    import importlib

    from app import models

    models.load_all()  # every table known to Alembic before any request
    for name in models.installed_features():
        app.register_blueprint(importlib.import_module(f"app.{name}").bp)


def _templates(app: Flask) -> None:
    from app.core.privacy import mask_id, mask_phone, redact_text
    from app.core.timeutil import WEEKDAY_NAMES, format_appointment, format_local

    hashes: dict[str, str] = {}

    def asset(filename: str) -> str:
        """A static URL carrying a content hash, so it can be cached for a year."""
        if filename not in hashes or app.debug:
            data = (Path(app.static_folder) / filename).read_bytes()
            hashes[filename] = hashlib.sha256(data).hexdigest()[:10]
        return url_for("static", filename=filename, v=hashes[filename])

    app.jinja_env.globals["asset"] = asset
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    from app.core.restore import take

    app.jinja_env.globals["restore_form"] = take  # fields a 页面已过期 refusal kept
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["appointment"] = format_appointment
    app.jinja_env.globals["weekday_names"] = WEEKDAY_NAMES
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id
    # free text people typed: {{ text|redact(record.private_names) }} on every screen
    app.jinja_env.filters["redact"] = redact_text
