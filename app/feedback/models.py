"""办不成事 reports, 我要问 questions, and which department each member of staff answers for."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.privacy import names_in
from app.core.timeutil import utcnow
from app.extensions import db
from app.feedback.states import QUESTION_LABELS, REPORT_LABELS, QuestionStatus, ReportStatus


class UnresolvedReport(db.Model):
    """办不成事: a matter a citizen could not get done at a hall, with its two clocks."""

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=ReportStatus.RECEIVED)
    reply_due_at: Mapped[datetime]  # end of the working day it came in
    resolve_due_at: Mapped[datetime]  # end of the 5th working day after
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    citizen = relationship("User", foreign_keys=[citizen_id])
    replied_by = relationship("User", foreign_keys=[replied_by_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])
    item = relationship("ServiceItem")
    hall = relationship("Hall")

    __table_args__ = (
        Index("ix_unresolved_report_hall_status", "hall_id", "status"),
        Index("ix_unresolved_report_citizen", "citizen_id", "created_at"),
    )

    @property
    def number(self) -> str:
        return f"BC{self.created_at:%Y%m%d}{self.id:04d}"

    @property
    def private_names(self) -> list[str]:
        """Names masked wherever its texts are shown to staff (app/core/privacy.py)."""
        return [self.citizen.name or "", *names_in(self.description)]

    @property
    def label(self) -> str:
        return REPORT_LABELS[ReportStatus(self.status)][0]

    @property
    def tone(self) -> str:
        return REPORT_LABELS[ReportStatus(self.status)][1]

    def reply_overdue(self, now: datetime) -> bool:
        """No first reply by the end of the working day it came in."""
        done = self.replied_at or self.resolved_at
        return (done or now) > self.reply_due_at

    def resolve_overdue(self, now: datetime) -> bool:
        """Not resolved within the resolution clock."""
        return (self.resolved_at or now) > self.resolve_due_at

    def overdue(self, now: datetime) -> bool:
        """Still open and past one of its clocks (the dashboard flags these)."""
        if self.status == ReportStatus.RESOLVED:
            return False
        return self.resolve_overdue(now) or (self.replied_at is None and self.reply_overdue(now))


class Question(db.Model):
    """我要问: a citizen's question about one item, answered by that item's department."""

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    department: Mapped[str] = mapped_column(String(80))  # the item's, when asked
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=QuestionStatus.OPEN)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The FAQ shown under the guide: anonymised copies, checked by staff before publishing.
    faq_question: Mapped[str | None] = mapped_column(Text)
    faq_answer: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    citizen = relationship("User", foreign_keys=[citizen_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
    item = relationship("ServiceItem")

    __table_args__ = (
        Index("ix_question_department_status", "department", "status"),
        Index("ix_question_item_published", "item_id", "published_at"),
        Index("ix_question_citizen", "citizen_id", "created_at"),
    )

    @property
    def number(self) -> str:
        return f"WT{self.created_at:%Y%m%d}{self.id:04d}"

    @property
    def private_names(self) -> list[str]:
        """The asker's names, masked in the question, its answer and the FAQ."""
        return [self.citizen.name or "", *names_in(self.text)]

    @property
    def label(self) -> str:
        if self.published_at:
            return "已答复 · 已公开"
        return QUESTION_LABELS[QuestionStatus(self.status)][0]

    @property
    def tone(self) -> str:
        return QUESTION_LABELS[QuestionStatus(self.status)][1]
