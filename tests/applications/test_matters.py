"""Applications in 我的办件, their timeline and their SMS link."""


from app.extensions import db
from app.sms.models import SmsMessage


def test_application_in_progress(app, client, auth, world):
    row = world.submitted()
    world.as_citizen()
    page = client.get("/progress/mine").get_data(as_text=True)
    assert row.number in page, page
    page = client.get(f"/progress/application/{row.id}").get_data(as_text=True)
    assert "已提交预审" in page
    auth.logout()
    assert [m for m in db.session.query(SmsMessage).all() if "/t/" in m.text] == []
    r = client.get(world.view_link(row))
    assert r.status_code == 302
    assert r.headers["Location"] == f"/progress/application/{row.id}"
    assert client.get(f"/applications/{row.id}").status_code == 200


def test_read_only_pages_run_only_selects_and_leave_the_pool_as_it_was(app, client, world):
    """@read_only views (app/core/readonly.py) run outside a transaction: only SELECTs, and the
    connection goes back to the pool in the engine's own mode."""
    from core.test_read_only_views import assert_pool_back_in_its_own_mode
    from sqlalchemy import event

    from app.core.readonly import READ_ONLY_VIEWS

    # these two with an application on them; every @read_only view, on the journey's way, in
    # tests/core/test_read_only_views.py
    assert {"app.progress.routes.mine", "app.progress.routes.timeline"} <= READ_ONLY_VIEWS
    row = world.submitted()
    world.as_citizen()
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        mine = client.get("/progress/mine")
        timeline = client.get(f"/progress/application/{row.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert mine.status_code == timeline.status_code == 200
    assert row.number in mine.text and "已提交预审" in timeline.text
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements)
    assert_pool_back_in_its_own_mode()
