"""Rating invitations, ratings, and the rectification cases of bad ratings."""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.privacy import names_in
from app.core.timeutil import utcnow
from app.extensions import db
from app.ratings.states import (
    CHANNELS,
    GOOD_FROM,
    LABELS,
    LEVELS,
    REASONS,
    TONES,
    CaseStatus,
)


class RatingInvite(db.Model):
    """The right to rate one served visit (一次一评) or one finished matter (一事一评), once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # onsite / online
    entity: Mapped[str] = mapped_column(String(20))  # booking / application / help_request
    entity_id: Mapped[int]
    citizen_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("service_item.id"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    department: Mapped[str] = mapped_column(String(80), default="")
    served_at: Mapped[datetime]
    served_day: Mapped[date]  # the hall's local date of the service: figures group by it
    closes_at: Mapped[datetime]
    link_opened_at: Mapped[datetime | None]
    rated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The outcome of the service, copied from its rating and case by services.refresh_figures()
    # after every change, so the figures are one scan of this table with no joins.
    score: Mapped[int | None]
    self_initiated: Mapped[bool | None]
    excluded: Mapped[bool] = mapped_column(default=False)
    case_status: Mapped[str | None] = mapped_column(String(16))
    case_due_at: Mapped[datetime | None]
    case_overdue_at: Mapped[datetime | None]
    case_replied: Mapped[bool] = mapped_column(default=False)
    case_verified: Mapped[bool] = mapped_column(default=False)
    case_outcome_good: Mapped[bool | None]

    hall = relationship("Hall")
    item = relationship("ServiceItem")
    window = relationship("Window")
    clerk = relationship("User", foreign_keys=[clerk_id])
    citizen = relationship("User", foreign_keys=[citizen_id])
    rating: Mapped["Rating | None"] = relationship(back_populates="invite", uselist=False)

    __table_args__ = (
        UniqueConstraint("entity", "entity_id", name="uq_rating_invite_entity"),
        Index("ix_rating_invite_hall_day", "hall_id", "served_day"),
        Index("ix_rating_invite_day", "served_day"),
        Index("ix_rating_invite_citizen_window", "citizen_id", "window_id", "served_at"),
        Index("ix_rating_invite_clerk_day", "clerk_id", "served_day"),
    )

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)

    @property
    def what(self) -> str:
        """What was served, in words."""
        return self.item.name if self.item else self.channel_label


class Rating(db.Model):
    """One rating of one service: the overall level, the indicators, and a reason when bad."""

    id: Mapped[int] = mapped_column(primary_key=True)
    invite_id: Mapped[int] = mapped_column(ForeignKey("rating_invite.id"), unique=True)
    score: Mapped[int]
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # indicator -> 1..5, all optional
    source: Mapped[str] = mapped_column(String(8))  # sms (invited) / qr / app (self-initiated)
    self_initiated: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(20))  # the first of `reasons`
    reasons: Mapped[list | None] = mapped_column(JSON)  # a bad rating's reasons, one or several
    reason_text: Mapped[str | None] = mapped_column(Text)
    photo_path: Mapped[str | None] = mapped_column(String(200))  # the compressed copy, served
    photo_original: Mapped[str | None] = mapped_column(String(60))  # until compressed; never served
    excluded: Mapped[bool] = mapped_column(default=False)  # an appeal dismissed it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    invite: Mapped[RatingInvite] = relationship(back_populates="rating")
    case: Mapped["Rectification | None"] = relationship(back_populates="rating", uselist=False)

    @property
    def level(self) -> str:
        return LEVELS[self.score]

    @property
    def good(self) -> bool:
        # rules.is_good says the same; models cannot import rules (rules imports models).
        return self.score >= GOOD_FROM

    @property
    def reason_label(self) -> str:
        keys = self.reasons or ([self.reason] if self.reason else [])
        return "、".join(REASONS[k] for k in keys if k in REASONS)

    @property
    def private_names(self) -> list[str]:
        """The rater's names, masked in their text wherever staff read it."""
        return [self.invite.citizen.name or "", *names_in(self.reason_text)]

    @property
    def number(self) -> str:
        """The reference shown to the citizen."""
        return f"PJ{self.created_at:%Y%m%d}{self.id:05d}"


class Rectification(db.Model):
    """差评整改: putting one bad rating right, on working-day clocks."""

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id"), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    department: Mapped[str] = mapped_column(String(80), default="")
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # who served (谁办理谁负责)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN)
    plan: Mapped[str | None] = mapped_column(String(10))  # simple / complex
    due_at: Mapped[datetime | None]  # end of the current step's clock; None when closed/paused
    overdue_at: Mapped[datetime | None]  # first time a clock ran out
    replied_at: Mapped[datetime | None]
    rectified_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    follow_up_satisfied: Mapped[bool | None]  # what the citizen said at the admin's follow-up
    outcome_score: Mapped[int | None]  # the citizen's own rating of the rectification
    outcome_at: Mapped[datetime | None]
    appeal_from: Mapped[str | None] = mapped_column(String(16))
    appeal_reason: Mapped[str | None] = mapped_column(String(12))
    appeal_evidence: Mapped[str | None] = mapped_column(Text)
    appeal_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    rating: Mapped[Rating] = relationship(back_populates="case")
    clerk = relationship("User", foreign_keys=[clerk_id])

    __table_args__ = (
        Index("ix_rectification_hall_status", "hall_id", "status"),
        Index("ix_rectification_status_due", "status", "due_at"),
    )

    @property
    def label(self) -> str:
        return LABELS[CaseStatus(self.status)]

    @property
    def tone(self) -> str:
        return TONES[CaseStatus(self.status)]

    @property
    def number(self) -> str:
        return f"ZG{self.created_at:%Y%m%d}{self.id:04d}"

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and self.due_at < utcnow()
