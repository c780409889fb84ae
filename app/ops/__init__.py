"""Observability: JSON logs carrying a request id, and Prometheus metrics at /metrics."""

from flask import Blueprint

bp = Blueprint("ops", __name__)


@bp.record_once
def _setup(state) -> None:
    from app.ops import logs, metrics, middleware, ratelimits

    logs.init_app(state.app)
    metrics.init_app(state.app)
    middleware.init_app(state.app)
    ratelimits.init_app(state.app)


from app.ops import routes  # noqa: E402,F401  (registers the views on bp)
