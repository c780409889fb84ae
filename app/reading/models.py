"""智能预审 of one photo: the phone's quality check before upload and the worker's reading after."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.extensions import db


class ReadingStatus:
    NONE = "none"  # the material is no document kind: nothing to read
    OFF = "off"  # reading is turned off for this deployment (PHOTO_READING=0)
    PENDING = "pending"  # waiting for compression, then the worker
    DONE = "done"
    FAILED = "failed"  # the engine gave up on the photo: no finding, the clerk looks as usual
    PURGED = "purged"  # the photo is gone (taken back or past retention), and what was read


class PhotoCheck(db.Model):
    """What the phone said about a photo and what the worker read from it.

    Only the extracted fields (name, ID number, credit code, company name) and issue codes are
    kept, never the OCR text; they are deleted with the photo."""

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("upload.id", ondelete="CASCADE"),
                                           unique=True)
    # Denormalised so the figures page counts a hall's hints without joining four tables.
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))
    # The phone's check (static/js/applications.js): what it warned about, and 仍然使用.
    phone_issues: Mapped[str | None] = mapped_column(String(40))  # dark,blurred,small
    phone_kept: Mapped[bool | None]  # True: warned, the citizen chose 仍然使用
    phone_retakes: Mapped[int] = mapped_column(default=0)  # 重拍 taps before this photo
    brightness: Mapped[int | None]  # 0-255, mean luma of the small grey copy
    sharpness: Mapped[float | None]  # variance of its Laplacian
    # The worker's reading.
    kind: Mapped[str | None] = mapped_column(String(24))  # what the material is (kinds.yaml)
    status: Mapped[str] = mapped_column(String(10), default=ReadingStatus.NONE)
    found_kind: Mapped[str | None] = mapped_column(String(24))
    issues: Mapped[list | None] = mapped_column(JSON)  # unreadable, wrong_kind, unclear:<key>
    fields: Mapped[dict | None] = mapped_column(JSON)  # key -> value; personal, see above
    seconds: Mapped[float | None]
    read_at: Mapped[datetime | None]
    # The hint the clerk saw when deciding, and the verdict they gave (the figures' agreement).
    hint: Mapped[str | None] = mapped_column(String(10))  # ok / fix
    verdict: Mapped[str | None] = mapped_column(String(10))  # ok / fix / missing
    decided_at: Mapped[datetime | None]

    upload = relationship("Upload", backref=backref("check", uselist=False, lazy="selectin",
                                                    passive_deletes=True))

    __table_args__ = (Index("ix_photo_check_hall_decided", "hall_id", "decided_at"),)

    @property
    def reading(self) -> bool:
        return self.status == ReadingStatus.PENDING

    @property
    def read(self) -> bool:
        return self.status == ReadingStatus.DONE
