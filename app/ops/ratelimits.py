"""Rate limits while Redis is away: noticed, logged and counted.

Flask-Limiter's in-memory fallback (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) counts in this process's
memory once Redis fails, so signing in keeps working, and asks Redis again after 1, 2, 4 … 32
seconds to move back by itself. Limits are then per process rather than shared, so the switch is
logged as a warning and counted (palm_ratelimit_fallbacks_total), and /healthz names it.
"""

import logging

from app.extensions import limiter
from app.ops import metrics

log = logging.getLogger(__name__)
_seen = {"in_memory": False}


def in_memory() -> bool:
    """Whether this process counts its rate limits in memory because Redis is away (never when
    limits are off: RATELIMIT_ENABLED=False leaves Flask-Limiter without a storage at all)."""
    return limiter.enabled and limiter.limiter.storage is not limiter.storage


def init_app(app) -> None:
    @app.after_request
    def _notice_a_switch(response):
        now = in_memory()
        if now != _seen["in_memory"]:
            _seen["in_memory"] = now
            if now:
                log.warning("Redis is away: rate limits count in this process's memory until "
                            "it is back")
                metrics.RATELIMIT_FALLBACKS.labels("memory").inc()
            else:
                log.info("Redis is back: rate limits count in Redis again")
        return response
