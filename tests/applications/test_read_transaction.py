"""On PostgreSQL, a GET that ran in a transaction which wrote nothing ends it with COMMIT when it
answered without error, and with ROLLBACK otherwise (app/core/readonly.py: end_read_transaction).
That keeps psycopg's prepared statements, which it drops at every ROLLBACK (#19). The materials
page is such a GET: it reads in a transaction, since its licence lookup may write. On SQLite, which
prepares nothing across requests, every such GET rolls back as before."""

import pytest
from flask import has_request_context, request
from sqlalchemy import event, text

from app.applications.models import Application
from app.core import readonly
from app.extensions import db


def _postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


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
        # SQLite's ROLLBACK comes when the app context ends, outside the request: not seen here
        assert seen == ["commit"] if _postgresql() else "commit" not in seen
        seen.clear()
        world.as_citizen("13900139000")  # someone else: the same page is not theirs
        assert world.client.get(f"/applications/{row.id}/materials").status_code == 404
        assert "commit" not in seen
    finally:
        stop()


def _after_a_get(app, app_id: int, change) -> bool:
    """Run `change` as a GET of the materials page would, then the hook, then the request's end;
    whether the hook committed."""
    commits = []

    def commit(_conn):
        commits.append(1)

    event.listen(db.engine, "commit", commit)
    try:
        with app.test_request_context(f"/applications/{app_id}/materials"):
            change(db.session.get(Application, app_id))
            readonly.end_read_transaction(app.response_class("", 200))
            db.session.rollback()  # what the request's end does with a transaction left open
    finally:
        event.remove(db.engine, "commit", commit)
    db.session.expire_all()
    return bool(commits)


def test_a_get_that_only_read_commits_on_postgresql(app, world):
    app_id = world.draft().id
    assert _after_a_get(app, app_id, lambda draft: draft.applicant_name) is _postgresql()


def test_a_get_that_changed_an_object_it_did_not_save_rolls_back(app, world):
    app_id = world.draft().id

    def rename(draft):
        draft.applicant_name = "不该保存"

    assert not _after_a_get(app, app_id, rename)
    assert db.session.get(Application, app_id).applicant_name == "张三"


@pytest.mark.parametrize("how", ["update", "flush", "lock"])
def test_a_get_whose_transaction_wrote_or_locked_rolls_back(app, world, how):
    """A flush or a bare UPDATE leaves no change in the session to see; its statements say so."""
    app_id = world.draft().id

    def write(draft):
        if how == "update":
            db.session.execute(text("UPDATE application SET applicant_name = :name "
                                    "WHERE id = :id"), {"name": "不该保存", "id": app_id})
        elif how == "flush":
            draft.applicant_name = "不该保存"
            db.session.flush()
        else:
            db.session.get(Application, app_id, with_for_update=True, populate_existing=True)

    assert not _after_a_get(app, app_id, write)
    assert db.session.get(Application, app_id).applicant_name == "张三"


def test_prepared_statements_outlive_a_reading_get(world):
    """psycopg prepares a statement once it has run five times; a ROLLBACK at the end of each
    materials page would drop them all (DEALLOCATE ALL), and the connection would hold none."""
    if not _postgresql():
        pytest.skip("SQLite prepares nothing across statements")
    row = world.draft()
    db.engine.dispose()  # one pooled connection, so every page below runs on it
    for _ in range(8):
        assert world.client.get(f"/applications/{row.id}/materials").status_code == 200
    db.session.commit()  # the test's own session: its next statement may take that connection
    with db.engine.connect() as conn:  # the pool's one idle connection: the pages' own
        held = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
    assert held > 0
