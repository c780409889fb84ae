"""Production refuses to start on an evicting Redis, and starts when Redis is merely away."""

import pytest

from app.config import check_production


def _production(redis_url: str) -> dict:
    return {"APP_ENV": "production", "DEBUG": False, "REDIS_URL": redis_url,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://palm@db/palm",
            "SMS_BACKEND": "aliyun", "SECRET_KEY": "k" * 48, "UPLOAD_DIR": "/srv/palm/uploads",
            "PHOTO_STORAGE": "local"}


def test_an_evicting_redis_is_refused(redis_server):
    server = redis_server("--maxmemory-policy", "allkeys-lru")
    with pytest.raises(RuntimeError, match="maxmemory-policy must be noeviction, not allkeys-lru"):
        check_production(_production(server.url))


def test_noeviction_and_an_unreachable_redis_start(redis_server):
    check_production(_production(redis_server().url))  # redis-server's default: noeviction
    check_production(_production("redis://127.0.0.1:1/0"))  # away: the outbox keeps the jobs
