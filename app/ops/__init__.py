"""Observability: JSON logs carrying a request id, and Prometheus metrics at /metrics."""

from flask import Blueprint

from app.ops import logs, metrics, middleware, ratelimits

bp = Blueprint("ops", __name__)


@bp.record_once
def _setup(state) -> None:
    logs.init_app(state.app)
    metrics.init_app(state.app)
    middleware.init_app(state.app)
    ratelimits.init_app(state.app)

