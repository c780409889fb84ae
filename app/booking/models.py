"""Slot rules, materialised slots, bookings, queue tickets and the ticket counters."""

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.booking.states import ACTIVE, BookingStatus, TicketStatus
from app.core.timeutil import utcnow
from app.extensions import db

_ACTIVE_SQL = "status IN (" + ", ".join(f"'{s}'" for s in ACTIVE) + ")"


class SlotRule(db.Model):
    """Weekly opening of one item at one hall: weekday, time range, slot length, places."""

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    window_group: Mapped[str] = mapped_column(String(4), default="A")
    weekday: Mapped[int]  # 0 = Monday
    start: Mapped[time]
    end: Mapped[time]
    slot_minutes: Mapped[int] = mapped_column(default=30)
    capacity: Mapped[int] = mapped_column(default=4)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    hall = relationship("Hall")
    item = relationship("ServiceItem")

    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("slot_minutes > 0 AND capacity >= 0", name="positive"),
        Index("ix_slot_rule_hall_item", "hall_id", "item_id"),
    )


class Slot(db.Model):
    """One bookable time of one item at one hall; `booked` never passes `capacity`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("slot_rule.id", ondelete="SET NULL"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    window_group: Mapped[str] = mapped_column(String(4), default="A")
    day: Mapped[date]  # local date
    starts_at: Mapped[datetime]  # naive UTC
    ends_at: Mapped[datetime]
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)

    hall = relationship("Hall")
    item = relationship("ServiceItem")
    rule = relationship(SlotRule)

    __table_args__ = (
        # The last line of defence against overbooking, behind the conditional UPDATE.
        CheckConstraint("booked >= 0 AND booked <= capacity", name="not_overbooked"),
        UniqueConstraint("hall_id", "item_id", "starts_at", name="uq_slot_hall_item_start"),
        Index("ix_slot_hall_day", "hall_id", "day"),
    )

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.booked)


class Booking(db.Model):
    """A citizen's time at a hall for an item (or a bundle led by that item)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundle.id"))
    day: Mapped[date]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.BOOKED)
    birth_year: Mapped[int | None]
    # The hidden key of the confirm form: a second submit finds the first booking.
    idem_key: Mapped[str] = mapped_column(String(40))
    changed_from_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(20))  # citizen / changed
    # 为家人办: the family member this is for; their phone gets the record's SMS as well.
    relative_name: Mapped[str | None] = mapped_column(String(40))
    relative_relation: Mapped[str | None] = mapped_column(String(10))
    relative_phone: Mapped[str | None] = mapped_column(String(11))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    no_show_at: Mapped[datetime | None]

    citizen = relationship("User")
    slot = relationship(Slot)
    hall = relationship("Hall")
    item = relationship("ServiceItem")
    bundle = relationship("Bundle")

    __table_args__ = (
        UniqueConstraint("citizen_id", "idem_key", name="uq_booking_citizen_idem"),
        # One active booking per person per item per day, even under concurrent submits.
        Index("uq_booking_active_item_day", "citizen_id", "item_id", "day", unique=True,
              sqlite_where=text(_ACTIVE_SQL), postgresql_where=text(_ACTIVE_SQL)),
        Index("ix_booking_hall_day", "hall_id", "day"),
        Index("ix_booking_citizen", "citizen_id", "created_at"),
    )


class Ticket(db.Model):
    """A queue number (A001…) issued at check-in or to a walk-in, per hall, window group, day."""

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    window_group: Mapped[str] = mapped_column(String(4))
    day: Mapped[date]
    seq: Mapped[int]
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("service_item.id"))
    # 0: a booking or a person aged 60+, called before 1: walk-ins.
    priority: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default=TicketStatus.WAITING)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id"))
    recalls: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    called_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    booking = relationship(Booking)
    window = relationship("Window")
    item = relationship("ServiceItem")

    __table_args__ = (
        UniqueConstraint("hall_id", "window_group", "day", "seq", name="uq_ticket_number"),
        Index("ix_ticket_queue", "hall_id", "day", "status"),
    )

    @property
    def code(self) -> str:
        return f"{self.window_group}{self.seq:03d}"


class TicketCounter(db.Model):
    """The last ticket number given per hall, window group and day."""

    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"), primary_key=True)
    window_group: Mapped[str] = mapped_column(String(4), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
