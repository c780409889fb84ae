"""Licences, the companies that hold them, the people allowed to use a company's, and each use."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.timeutil import local_now, utcnow
from app.extensions import db
from app.licences.states import LABELS, Status
from app.licences.types import name_of


class Company(db.Model):
    """A company (法人) known by its 统一社会信用代码."""

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list["CompanyMember"]] = relationship(
        back_populates="company", cascade="all, delete-orphan")


class CompanyMember(db.Model):
    """A person allowed to use the company's licences (its legal representative, an agent)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    role: Mapped[str] = mapped_column(String(20), default="经办人")

    company: Mapped[Company] = relationship(back_populates="members")
    user = relationship("User")

    __table_args__ = (UniqueConstraint("company_id", "user_id"),)


class Licence(db.Model):
    """One licence (电子证照): issued here on 办结, imported, or found through an adapter."""

    id: Mapped[int] = mapped_column(primary_key=True)
    type_code: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(60))
    holder_name: Mapped[str] = mapped_column(String(120))
    holder_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"))
    department: Mapped[str] = mapped_column(String(80))
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))
    issued_on: Mapped[date]
    expires_on: Mapped[date | None]  # None: long-term (长期)
    status: Mapped[str] = mapped_column(String(12), default=Status.VALID)
    status_reason: Mapped[str | None] = mapped_column(Text)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("licence.id"))
    source: Mapped[str] = mapped_column(String(20), default="issued")  # issued import http
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    holder = relationship("User")
    company = relationship(Company)
    hall = relationship("Hall")
    application = relationship("Application")

    __table_args__ = (UniqueConstraint("type_code", "number"),
                      Index("ix_licence_holder", "holder_user_id", "type_code"),
                      Index("ix_licence_company", "company_id", "type_code"))

    @property
    def type_name(self) -> str:
        return name_of(self.type_code)

    def status_on(self, day: date | None = None) -> Status:
        """The status as of that day: a valid licence past its expiry date has expired."""
        day = day or local_now().date()
        if self.status == Status.VALID and self.expires_on and self.expires_on < day:
            return Status.EXPIRED
        return Status(self.status)

    @property
    def live_status(self) -> Status:
        return self.status_on()

    @property
    def label(self) -> tuple[str, str]:
        return LABELS[self.live_status]

    @property
    def valid_now(self) -> bool:
        return self.live_status == Status.VALID


class LicenceShow(db.Model):
    """One 亮证: a 5-minute, single-use token (a /t/ link) and the short code a clerk types."""

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    token: Mapped[str] = mapped_column(String(12), unique=True)
    code: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(120))  # the matter the citizen shows it for
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    licence: Mapped[Licence] = relationship()

    __table_args__ = (Index("ix_licence_show_code", "code"),)


class LicenceUse(db.Model):
    """用证记录: who looked at or used a licence, when, and for what."""

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licence.id"))
    kind: Mapped[str] = mapped_column(String(12))  # app/licences/states.py USES
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))
    purpose: Mapped[str] = mapped_column(String(200), default="")
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    licence: Mapped[Licence] = relationship()
    actor = relationship("User")
    hall = relationship("Hall")

    __table_args__ = (Index("ix_licence_use_licence", "licence_id", "created_at"),
                      Index("ix_licence_use_hall", "hall_id", "created_at"))
