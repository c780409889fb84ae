"""A pooled connection is checked before use only after it has sat idle (app/core/dbping.py)."""

import os

import pytest
from sqlalchemy import text

from app.core import dbping
from app.extensions import db


def _pings(monkeypatch, fail: int = 0) -> list:
    """Count the checks; the first `fail` of them find the connection dead."""
    calls = []
    dialect = db.engine.dialect
    real = dialect.do_ping

    def ping(dbapi_connection):
        calls.append(dbapi_connection)
        if len(calls) <= fail:
            raise dialect.loaded_dbapi.OperationalError("server closed the connection")
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", ping)
    return calls


def test_a_connection_handed_back_a_moment_ago_is_not_checked(monkeypatch):
    db.session.close()
    pings = _pings(monkeypatch)
    for _ in range(3):
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    assert pings == []


def test_an_idle_connection_is_checked_and_replaced_when_dead(monkeypatch, client):
    db.session.close()
    monkeypatch.setattr(dbping, "IDLE_SECONDS", 0.0)
    pings = _pings(monkeypatch, fail=1)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["checks"]["database"] == "ok"
    # the dead one, thrown away; then the new one the pool opened in its place
    assert len(pings) >= 2 and pings[0] is not pings[1]


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="kills PostgreSQL backends")
def test_connections_the_server_dropped_while_idle_do_not_fail_a_request(monkeypatch, client):
    """A database restart: every idle pooled connection is gone, the next request still works."""
    db.session.close()
    with db.engine.connect() as conn:
        client.get("/healthz")  # another connection, back in the pool when it is done
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state = 'idle'")).scalar()
    assert killed >= 1
    monkeypatch.setattr(dbping, "IDLE_SECONDS", 0.0)
    try:
        for _ in range(3):
            response = client.get("/healthz")
            assert response.status_code == 200 and response.json["checks"]["database"] == "ok"
    finally:
        db.engine.dispose()  # later tests must not meet the connections this one killed


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="kills PostgreSQL backends")
def test_connections_dropped_moments_before_use_cost_one_request_at_most(client):
    """Dropped less than IDLE_SECONDS before use, so not checked: the first request to meet one
    fails (healthz says so), and the pool recycles the other old connections at once."""
    db.session.close()
    try:
        with db.engine.connect() as conn:
            idle = [db.engine.connect() for _ in range(2)]  # two more, then back to the pool
            for other in idle:
                other.execute(text("SELECT 1"))
            for other in idle:
                other.close()
            killed = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'idle'")).scalar()
        assert killed >= 2
        codes = [client.get("/healthz").status_code for _ in range(4)]
    finally:
        db.engine.dispose()
    assert codes.count(503) <= 1 and codes[-3:] == [200, 200, 200], codes
