"""The one way a record moves between states: `move(record, to, actor_id, ...)`.

Each feature declares its machine once (`machine(Model, ...)`, in its services module) from the
tables in its states.py: where each status may go (ALLOWED), the time stamped on entering a status
(STAMPS), the citizen's sentence per move (PUBLIC_NOTES), the SMS per move (SMS) and the moves that
send none although they enter a status that has one (QUIET). `move` then
locks the row, refuses a move the table does not allow with the feature's own error, sets the
status, writes the audit line and queues the move's SMS through the feature's `notify`, all in the
caller's transaction: it never commits, the caller does.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.models import AuditLog, audit
from app.core.timeutil import utcnow
from app.extensions import db

# session.info key: the (model, id) of rows this transaction holds a row lock on.
HELD = "states.held_locks"


@dataclass
class Step:
    """One move as it happens, handed to the feature's hooks."""

    record: Any
    current: Any
    to: Any
    actor_id: int | None
    now: datetime
    entry: AuditLog | None = None


@dataclass(frozen=True)
class Machine:
    """A feature's state machine: its tables, and the few hooks only it can say."""

    model: type
    entity: str  # the audit log's entity name
    allowed: Mapping  # status -> the statuses it may move to
    refused: Callable[[Any, Any, Any], Exception]  # (record, current, to) -> the feature's error
    moves: Callable[[Any], Collection] | None = None  # the record's moves, when not allowed[status]
    stamps: Mapping = field(default_factory=dict)  # status -> attribute set to now, if still empty
    public_notes: Mapping = field(default_factory=dict)  # status -> the default public note
    sms: Mapping = field(default_factory=dict)  # status -> what `notify` sends on entering it
    quiet: Collection = frozenset()  # (from, to) moves that send nothing although `to` has an SMS
    notify: Callable[[Step, Any], None] | None = None  # (step, sms[to]) queues the SMS
    apply: Callable[[Step], None] | None = None  # the feature's own effects of a move

    @property
    def status(self) -> type:
        return type(next(iter(self.allowed)))


MACHINES: dict[type, Machine] = {}


def machine(model: type, **tables) -> Machine:
    """Declare (and register) the state machine of a model's records."""
    declared = Machine(model, **tables)
    MACHINES[model] = declared
    return declared


def held(*records) -> None:
    """Note rows the caller has just read under a row lock (SELECT ... FOR UPDATE, loaded fresh in
    this transaction): `move` will not lock and read them again before the transaction ends."""
    db.session.info.setdefault(HELD, set()).update((type(r), r.id) for r in records)


def lock(record) -> None:
    """Take the record's row lock (SELECT ... FOR UPDATE; nothing on SQLite), keeping its
    unflushed changes and reading its latest committed status; once per transaction."""
    if (type(record), record.id) in db.session.info.get(HELD, ()):
        return  # nobody else can have changed it since: the lock is ours until commit
    db.session.flush()
    # OF its own table: a row loaded with joined relations (an application with its materials,
    # services.for_citizen) is read again with them, and PostgreSQL locks no outer-joined side.
    db.session.get(type(record), record.id, with_for_update={"of": type(record)},
                   populate_existing=True)
    held(record)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _release(session: Session, *args) -> None:
    """Row locks end with the transaction (and may end with a savepoint rolled back to)."""
    session.info.pop(HELD, None)


def move(record, to, actor_id: int | None = None, note: str | None = None,
         public_note: str | None = None, *, sms: bool = True, **changes) -> AuditLog:
    """Move a record (row locked), refusing what its table forbids; audited, SMS queued.

    `changes` are attributes set with the move, once it is allowed. Never commits."""
    spec = MACHINES[type(record)]
    lock(record)
    status = spec.status
    current, to = status(record.status), status(to)
    allowed = spec.moves(record) if spec.moves else spec.allowed[current]
    if to not in allowed:
        raise spec.refused(record, current, to)
    step = Step(record, current, to, actor_id, utcnow())
    for name, value in changes.items():
        setattr(record, name, value)
    stamp = spec.stamps.get(to)
    if stamp and getattr(record, stamp) is None:
        setattr(record, stamp, step.now)
    record.status = to
    step.entry = audit(spec.entity, record.id, to.value, actor_id=actor_id,
                       from_status=current.value, note=note,
                       public_note=public_note or spec.public_notes.get(to))
    db.session.flush()
    if spec.apply:
        spec.apply(step)
    if sms and spec.notify and to in spec.sms and (current, to) not in spec.quiet:
        spec.notify(step, spec.sms[to])
    return step.entry
