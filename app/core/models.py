"""Audit trail shared by every state machine."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.timeutil import utcnow
from app.extensions import db


class AuditLog(db.Model):
    """One status change: who, when, from, to, note."""

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)  # for staff
    public_note: Mapped[str | None] = mapped_column(Text)  # shown in the citizen's timeline
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


def audit(entity: str, entity_id: int, to_status: str, *, actor_id=None, from_status=None,
          note=None, public_note=None) -> AuditLog:
    """Add an audit row to the current transaction."""
    row = AuditLog(entity=entity, entity_id=entity_id, actor_id=actor_id,
                   from_status=from_status, to_status=to_status, note=note,
                   public_note=public_note)
    db.session.add(row)
    return row
