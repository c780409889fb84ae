"""A GET that ran in a transaction ends it with COMMIT when it answered without error and changed
nothing, and with ROLLBACK otherwise (app/core/readonly.py: end_read_transaction). On PostgreSQL
that keeps psycopg's prepared statements, which it drops at every ROLLBACK (#19). The materials
page is such a GET: it reads in a transaction, since its licence lookup may write."""

import pytest
from flask import has_request_context, request
from sqlalchemy import event, text

from app.core import readonly
from app.extensions import db


def _endings(path_part: str):
    """Every COMMIT and ROLLBACK of a connection inside a request whose path has `path_part`."""
    seen = []

    def commit(_conn):
        if has_request_context() and path_part in request.path:
            seen.append("commit")

    def rollback(_conn):
        if has_request_context() and path_part in request.path:
            seen.append("rollback")

    event.listen(db.engine, "commit", commit)
    event.listen(db.engine, "rollback", rollback)
    return seen, lambda: (event.remove(db.engine, "commit", commit),
                          event.remove(db.engine, "rollback", rollback))


def test_a_reading_get_commits_and_a_refused_one_rolls_back(world):
    row = world.draft()
    seen, stop = _endings("/materials")
    try:
        assert world.client.get(f"/applications/{row.id}/materials").status_code == 200
        assert seen == ["commit"]
        seen.clear()
        world.as_citizen("13900139000")  # someone else: the same page is not theirs
        assert world.client.get(f"/applications/{row.id}/materials").status_code == 404
        assert "commit" not in seen
    finally:
        stop()


def test_a_get_that_changed_an_object_it_did_not_save_rolls_back(app, world):
    """A change left unsaved is thrown away, as before: the hook commits only a clean session."""
    row = world.draft()
    app_id = row.id
    with app.test_request_context(f"/applications/{app_id}/materials"):
        from app.applications.models import Application

        draft = db.session.get(Application, app_id)
        draft.applicant_name = "不该保存"
        readonly.end_read_transaction(app.response_class("", 200))
        assert draft in db.session.dirty  # not committed; the request's end rolls it back
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Application, app_id).applicant_name == "张三"


def test_prepared_statements_outlive_a_reading_get(world):
    """psycopg prepares a statement at its fifth run; a ROLLBACK at the end of each materials
    page would drop them all (DEALLOCATE ALL), and the connection would hold none."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite prepares nothing across statements")
    row = world.draft()
    for _ in range(7):
        assert world.client.get(f"/applications/{row.id}/materials").status_code == 200
    db.session.commit()  # the test's own session: its next statement may take that connection
    with db.engine.connect() as conn:  # the pool's one idle connection: the pages' own
        held = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
    assert held > 0
