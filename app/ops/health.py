"""What /healthz reports: whether the database and Redis answer, and what it means when not."""

from flask import current_app
from sqlalchemy import text

from app.extensions import db
from app.jobs import redis_connection
from app.ops.ratelimits import in_memory


def checks() -> tuple[dict, list[str]]:
    """Each dependency's state ("ok" or the error's type), and a reason per one that is down."""
    found, reasons = {}, []
    try:
        db.session.execute(text("SELECT 1"))
        found["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        db.session.rollback()
        found["database"] = f"error: {type(exc).__name__}"
        reasons.append("database unreachable: pages answer 503 until it is back")
    if current_app.config.get("REDIS_URL"):
        try:
            redis_connection().ping()
            found["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            found["redis"] = f"error: {type(exc).__name__}"
            reasons.append("redis unreachable: jobs wait in the outbox, rate limits count in "
                           "memory")
    else:
        found["redis"] = "not configured (jobs run inline)"
    found["rate_limits"] = "memory (Redis away)" if in_memory() else "ok"
    return found, reasons
