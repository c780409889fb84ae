"""The one way a record changes status (app/core/states.py `move`), seen on a licence: its table
allows valid -> revoked/replaced only, and a revoke sends the holder the `licence_revoked` SMS."""

from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql

import factories
from app.core.models import AuditLog
from app.core.states import MACHINES, move
from app.extensions import db
from app.licences.models import Licence
from app.licences.services import LicenceError
from app.licences.states import Status
from app.sms.models import SmsMessage


@pytest.fixture
def licence(app):
    hall = factories.hall()
    holder = factories.citizen("13800138000", name="张三")
    row = Licence(type_code="residence_permit", number="JZ-STATES-1", holder_name="张三",
                  holder_user_id=holder.id, department="公安局", hall_id=hall.id,
                  issued_on=date(2026, 1, 1))
    db.session.add(row)
    db.session.commit()
    return row


def _audits(row) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "licence", AuditLog.entity_id == row.id).order_by(AuditLog.id)))


def _messages() -> int:
    return db.session.scalar(select(func.count(SmsMessage.id)).where(
        SmsMessage.template == "licence_revoked"))


@contextmanager
def _listening(name, listener):
    """The session's `name` events go to `listener` inside the block."""
    session = db.session()
    event.listen(session, name, listener)
    try:
        yield
    finally:
        event.remove(session, name, listener)


def test_every_feature_declares_its_machine():
    names = {model.__name__ for model in MACHINES}
    assert {"Booking", "SmsMessage", "Rectification", "HelpRequest", "Application",
            "Licence", "UnresolvedReport", "Question", "Ticket", "OnBehalf"} <= names


def test_a_move_the_table_does_not_allow_is_refused_with_the_features_message(licence):
    move(licence, Status.REVOKED, None, "作废")
    db.session.commit()
    with pytest.raises(LicenceError) as refused:
        move(licence, Status.REPLACED, None, "换发")
    assert refused.value.message == "证照JZ-STATES-1当前“已注销”,不能“已换发”"
    db.session.rollback()
    assert db.session.get(Licence, licence.id).status == Status.REVOKED
    assert [a.to_status for a in _audits(licence)] == ["revoked"]


def test_the_row_is_locked_before_the_status_is_read(app, licence):
    seen = []

    def record(state):
        if state.is_select:
            seen.append(str(state.statement.compile(dialect=postgresql.dialect())))

    assert licence.status == Status.VALID  # loaded: the move's only read is its own
    with _listening("do_orm_execute", record):
        move(licence, Status.REVOKED, None, "作废")
    assert "FROM licence" in seen[0] and seen[0].endswith("FOR UPDATE OF licence")


def test_the_status_is_read_again_under_the_lock_not_taken_from_memory(licence):
    assert licence.status == Status.VALID
    db.session.execute(Licence.__table__.update().where(Licence.id == licence.id)
                       .values(status=Status.REPLACED.value))  # another writer got there first
    assert licence.status == Status.VALID  # the object in memory has not seen it
    with pytest.raises(LicenceError):
        move(licence, Status.REVOKED, None, "作废")
    assert licence.status == Status.REPLACED


def test_the_move_is_audited_with_its_actor_notes_and_changes(licence):
    actor = factories.citizen("13900139000")
    entry = move(licence, Status.REVOKED, actor.id, "作废", "已注销:作废", status_reason="作废")
    assert entry.id is not None  # flushed: its id keys the SMS
    assert (entry.entity, entry.entity_id, entry.from_status, entry.to_status) == (
        "licence", licence.id, "valid", "revoked")
    assert (entry.actor_id, entry.note, entry.public_note) == (actor.id, "作废", "已注销:作废")
    assert licence.status == Status.REVOKED and licence.status_reason == "作废"
    assert _audits(licence) == [entry]


def test_the_sms_named_by_the_table_is_queued_once(licence):
    move(licence, Status.REVOKED, None, "作废")
    assert _messages() == 1
    message = db.session.scalar(select(SmsMessage))
    assert message.phone == "13800138000" and "电子证照已被注销" in message.text


def test_no_sms_when_the_caller_sends_its_own(licence):
    move(licence, Status.REVOKED, None, "作废", sms=False)
    assert _messages() == 0


def test_a_move_never_commits_the_caller_does(app, licence):
    commits = []

    def record(session):
        commits.append(session)

    with _listening("after_commit", record):
        move(licence, Status.REVOKED, None, "作废")
    assert commits == []
    db.session.rollback()
    assert db.session.get(Licence, licence.id).status == Status.VALID
    assert _audits(licence) == [] and _messages() == 0


def _locking_reads(block) -> int:
    """How many SELECT ... FOR UPDATE of a licence the block runs."""
    seen = []

    def record(state):
        if state.is_select:
            sql = str(state.statement.compile(dialect=postgresql.dialect()))
            seen.append("FROM licence" in sql and sql.endswith("FOR UPDATE OF licence"))

    with _listening("do_orm_execute", record):
        block()
    return sum(seen)


def test_a_row_is_locked_once_a_transaction_and_afresh_in_the_next(licence):
    assert _locking_reads(lambda: move(licence, Status.REPLACED, None, "换发")) == 1
    # The lock is ours until the transaction ends: a second move reads nothing again.
    assert _locking_reads(lambda: pytest.raises(LicenceError, move, licence, Status.REVOKED,
                                                None, "作废")) == 0
    db.session.rollback()  # the lock ended with it: the next move locks and reads afresh
    assert _locking_reads(lambda: move(licence, Status.REVOKED, None, "作废")) == 1
    db.session.commit()
    assert _locking_reads(lambda: pytest.raises(LicenceError, move, licence, Status.REPLACED,
                                                None, "换发")) == 1
