"""The app factory: settings, extensions, every feature's blueprint, templates and the CLI.

Its own module, not the package's __init__, so that it imports the whole app at the top while
importing one part of the app (app.config, a model) never builds the rest."""

import hashlib
import logging
from pathlib import Path

from flask import Flask, has_request_context, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from app import (
    cli,
    features,  # noqa: F401  every table known to Alembic before any request
    jobs,
)
from app import config as settings
from app.applications import bp as applications_bp
from app.auth import bp as auth_bp
from app.auth import sessions
from app.booking import bp as booking_bp
from app.catalog import bp as catalog_bp
from app.catalog import halls
from app.core import access, dbping, errors, readonly, security
from app.core.care import care_mode
from app.core.ids import IdConverter
from app.core.privacy import RedactingFilter, mask_id, mask_phone, redact_text
from app.core.restore import take
from app.core.sessions import CachedSerializerSessionInterface
from app.core.timeutil import WEEKDAY_NAMES, format_appointment, format_local
from app.extensions import csrf, db, htmx_ext, limiter, login_manager, migrate
from app.feedback import bp as feedback_bp
from app.help import bp as help_bp
from app.licences import bp as licences_bp
from app.ops import bp as ops_bp
from app.pages import bp as pages_bp
from app.progress import bp as progress_bp
from app.ratings import bp as ratings_bp
from app.reading import bp as reading_bp
from app.sms import bp as sms_bp
from app.sso import bp as sso_bp

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, overridden by `config` (tests pass one)."""
    app = Flask("app", template_folder=str(ROOT / "templates"),
              static_folder=str(ROOT / "static"), instance_path=str(settings.INSTANCE))
    app.config.update(settings.from_env())
    if config:
        app.config.update(config)
    settings.complete(app.config)
    settings.check_production(app.config)
    if app.config["PROXY_FIX"]:
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _logging(app)

    app.url_map.converters["int"] = IdConverter  # before any route: an id past MAX_ID is 404
    _extensions(app)
    _blueprints(app)
    _templates(app)

    cli.init_app(app)
    return app


def _logging(app: Flask) -> None:
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
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            dbping.install(engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    htmx_ext.init_app(app)
    limiter.init_app(app)
    app.session_interface = CachedSerializerSessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"
    login_manager.user_loader(sessions.load_user)  # a live sign-in, not a bare id
    access.init_app(app, halls.hall_by_id, halls.first_hall)  # core imports no feature
    jobs.init_app(app)
    readonly.init_app(app)
    security.init_app(app)
    errors.init_app(app)


def _blueprints(app: Flask) -> None:
    app.register_blueprint(pages_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(progress_bp)
    app.register_blueprint(ratings_bp)
    app.register_blueprint(help_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(sso_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(reading_bp)
    app.register_blueprint(licences_bp)


def _templates(app: Flask) -> None:
    urls: dict[tuple[str, str], str] = {}

    def asset(filename: str) -> str:
        """A static URL carrying a content hash, so it can be cached for a year. Made once per
        file and mount point: every page asks for the same half-dozen."""
        key = (request.script_root if has_request_context() else "", filename)
        if key not in urls or app.debug:
            data = (Path(app.static_folder) / filename).read_bytes()
            urls[key] = url_for("static", filename=filename,
                                v=hashlib.sha256(data).hexdigest()[:10])
        return urls[key]

    app.jinja_env.globals["asset"] = asset

    app.jinja_env.globals["restore_form"] = take  # fields a 页面已过期 refusal kept
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["appointment"] = format_appointment
    app.jinja_env.globals["weekday_names"] = WEEKDAY_NAMES
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id
    # free text people typed: {{ text|redact(record.private_names) }} on every screen
    app.jinja_env.filters["redact"] = redact_text

    @app.context_processor
    def request_globals() -> dict:
        """What every template knows of the request: care mode, where it is, where to sign in."""
        return {"care_mode": care_mode(),
                "current_path": request.full_path.rstrip("?") if request else "/",
                "login_url": url_for("auth.login")}
