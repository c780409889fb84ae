"""Help requests (帮办代办), the hall's home-visit area, and actions taken on a citizen's behalf."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.timeutil import utcnow
from app.extensions import db
from app.help.states import (
    BEHALF_KINDS,
    BEHALF_LABELS,
    LABELS,
    MODES,
    OPEN,
    BehalfStatus,
    HelpStatus,
)


class HelpArea(db.Model):
    """One 街道/乡镇 a hall's helpers visit at home; the hall's home-visit service area."""

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    hall = relationship("Hall")

    __table_args__ = (UniqueConstraint("hall_id", "name", name="uq_help_area_hall_name"),)


class HelpRequest(db.Model):
    """A citizen's request for assisted handling of one item (or "not sure which")."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("service_item.id"))
    mode: Mapped[str] = mapped_column(String(8))
    contact_name: Mapped[str] = mapped_column(String(40))
    contact_phone: Mapped[str] = mapped_column(String(11))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("help_area.id", ondelete="SET NULL"))
    address: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(200))  # why they cannot come (home visits)
    details: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=HelpStatus.SUBMITTED)
    helper_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    assigned_at: Mapped[datetime | None]
    feedback: Mapped[str | None] = mapped_column(Text)  # the helper's plan, told to the citizen
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    citizen = relationship("User", foreign_keys=[citizen_id])
    helper = relationship("User", foreign_keys=[helper_id])
    hall = relationship("Hall")
    item = relationship("ServiceItem")
    area = relationship(HelpArea)
    actions: Mapped[list["OnBehalf"]] = relationship(
        back_populates="request", order_by="OnBehalf.id")

    __table_args__ = (Index("ix_help_request_hall_status", "hall_id", "status"),
                      Index("ix_help_request_citizen", "citizen_id", "created_at"))

    @property
    def label(self) -> tuple[str, str]:
        return LABELS[HelpStatus(self.status)]

    @property
    def mode_label(self) -> str:
        return MODES.get(self.mode, self.mode)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def title(self) -> str:
        return self.item.name if self.item else "帮办代办(事项待确定)"

    @property
    def pending(self) -> "OnBehalf | None":
        return next((a for a in self.actions if a.status == BehalfStatus.PENDING), None)


class OnBehalf(db.Model):
    """A booking or application a helper started for the citizen; it exists only once the
    citizen confirms it with the SMS code sent to their phone."""

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_request.id"))
    kind: Mapped[str] = mapped_column(String(12))  # booking / application
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id"))
    idem_key: Mapped[str] = mapped_column(String(40))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default=BehalfStatus.PENDING)
    error: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]

    request: Mapped[HelpRequest] = relationship(back_populates="actions")
    item = relationship("ServiceItem")
    slot = relationship("Slot")
    helper = relationship("User", foreign_keys=[created_by])
    booking = relationship("Booking")
    application = relationship("Application")

    __table_args__ = (Index("ix_on_behalf_request", "request_id", "status"),)

    @property
    def kind_label(self) -> str:
        return BEHALF_KINDS[self.kind]

    @property
    def label(self) -> tuple[str, str]:
        return BEHALF_LABELS[self.status]
