"""Applications (办件), the materials they need, and the citizen's photos (Upload)."""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.applications.states import CLOSED, EDITABLE, LABELS, Status
from app.core.timeutil import utcnow
from app.extensions import db


class Application(db.Model):
    """One pre-review application for an item or a bundle."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("service_item.id"))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundle.id"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("hall.id"))
    title: Mapped[str] = mapped_column(String(120))
    promised_days: Mapped[int] = mapped_column(default=5)
    status: Mapped[str] = mapped_column(String(24), default=Status.DRAFT)
    applicant_name: Mapped[str | None] = mapped_column(String(40))
    id_number: Mapped[str | None] = mapped_column(String(18))
    contact_phone: Mapped[str | None] = mapped_column(String(11))
    # 为家人办: the family member this is for; their phone gets the record's SMS as well.
    relative_name: Mapped[str | None] = mapped_column(String(40))
    relative_relation: Mapped[str | None] = mapped_column(String(10))
    relative_phone: Mapped[str | None] = mapped_column(String(11))
    # The item's own fields as answered, with the labels asked under (a later catalog edit
    # changes nothing here): [{key, label, kind, value}].
    answers: Mapped[list | None] = mapped_column(JSON)
    round: Mapped[int] = mapped_column(default=1)  # +1 at each supplement request
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    claimed_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]  # entered the hall's queue (first submit or resubmit)
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    missing_due: Mapped[date | None]
    commitment_at: Mapped[datetime | None]  # the citizen confirmed 容缺承诺
    closed_at: Mapped[datetime | None]
    photos_purged_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    materials: Mapped[list["AppMaterial"]] = relationship(
        back_populates="application", order_by="AppMaterial.position",
        cascade="all, delete-orphan")
    citizen = relationship("User", foreign_keys=[citizen_id])
    clerk = relationship("User", foreign_keys=[claimed_by])
    hall = relationship("Hall")
    item = relationship("ServiceItem")
    bundle = relationship("Bundle")

    __table_args__ = (Index("ix_application_hall_status", "hall_id", "status", "queued_at"),
                      Index("ix_application_citizen", "citizen_id", "status"))

    @property
    def label(self) -> tuple[str, str]:
        return LABELS[Status(self.status)]

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    @property
    def flagged(self) -> list["AppMaterial"]:
        return [m for m in self.materials if m.verdict == "fix"]

    @property
    def missing(self) -> list["AppMaterial"]:
        return [m for m in self.materials if m.verdict == "missing"]


class AppMaterial(db.Model):
    """A material this application needs, copied from the catalog when the draft began."""

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    form_label: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    may_be_missing: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    verdict: Mapped[str | None] = mapped_column(String(10))  # ok / fix / missing
    reason: Mapped[str | None] = mapped_column(String(20))
    reason_text: Mapped[str | None] = mapped_column(Text)
    # 智能预审: the document kind copied with the rest, and the catalog material it came from
    # (its example photo is shown live, so an admin's better example reaches open drafts).
    document_kind: Mapped[str | None] = mapped_column(String(24))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("material.id", ondelete="SET NULL"))
    # 免提交: the licence type that satisfies it, the licence it carries instead of a photo,
    # and why a lookup fell back to a photo (app/licences/services.py).
    licence_type: Mapped[str | None] = mapped_column(String(40))
    licence_id: Mapped[int | None] = mapped_column(ForeignKey("licence.id"))
    licence_note: Mapped[str | None] = mapped_column(String(120))

    application: Mapped[Application] = relationship(back_populates="materials")
    source = relationship("Material", lazy="joined")
    licence = relationship("Licence")
    uploads: Mapped[list["Upload"]] = relationship(
        back_populates="material", order_by="Upload.id", cascade="all, delete-orphan")

    @property
    def current(self) -> list["Upload"]:
        """The photos the clerk decides on now (older versions stay in `history`)."""
        return [u for u in self.uploads if u.superseded_at is None and u.removed_at is None]

    @property
    def history(self) -> list["Upload"]:
        return [u for u in self.uploads if u.superseded_at is not None]


class Upload(db.Model):
    """One photo of a material; the original is kept only until the worker has compressed it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("app_material.id"), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    round: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # ready failed purged
    original_key: Mapped[str | None] = mapped_column(String(40))
    image_key: Mapped[str | None] = mapped_column(String(40))
    thumb_key: Mapped[str | None] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(8), default="")
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    size_bytes: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    trust: Mapped[str] = mapped_column(String(1), default="C")  # B once a clerk accepted it
    checked_at: Mapped[datetime | None]
    reused_from_id: Mapped[int | None] = mapped_column(ForeignKey("upload.id"))
    superseded_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    material: Mapped[AppMaterial] = relationship(back_populates="uploads")

    __table_args__ = (Index("ix_upload_citizen_trust", "citizen_id", "trust"),)

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    @property
    def poll_seconds(self) -> int:
        """How long the page waits before asking again: 1 s while a photo is fresh, backing off
        to 5 s when the worker is busy, so a queue of photos doesn't become a flood of polls."""
        age = (utcnow() - self.created_at).total_seconds() if self.created_at else 0
        return 1 if age < 5 else 2 if age < 20 else 5
