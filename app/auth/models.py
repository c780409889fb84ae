"""People who sign in, and the one-time SMS codes they sign in with."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.privacy import mask_phone
from app.core.timeutil import utcnow
from app.extensions import db


class Role(enum.StrEnum):
    CITIZEN = "citizen"
    CLERK = "clerk"
    ADMIN = "admin"


ROLE_LABELS = {Role.CITIZEN: "群众", Role.CLERK: "窗口工作人员", Role.ADMIN: "大厅管理员"}


class User(UserMixin, db.Model):
    """A citizen (by phone) or a member of staff (by username and password)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.CITIZEN)
    phone: Mapped[str | None] = mapped_column(String(11), unique=True)
    username: Mapped[str | None] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    name: Mapped[str | None] = mapped_column(String(40))
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    hall = relationship("Hall")

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.CLERK, Role.ADMIN)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def display_name(self) -> str:
        return self.name or (self.masked_phone if self.phone else self.username or "")

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[Role(self.role)]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


class SmsCode(db.Model):
    """A 6-digit code bound to one phone and one purpose; single use, short-lived."""

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(11))
    purpose: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_sms_code_phone_purpose", "phone", "purpose", "created_at"),)
