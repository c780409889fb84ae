"""People who sign in, and the one-time SMS codes they sign in with."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, select
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
    # the clerk's counter, remembered across sign-ins and devices (叫号)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("window.id", ondelete="SET NULL"))
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
        if self.role == Role.ADMIN and self.hall_id is None:
            return "市级管理员"  # an admin of no hall: every hall (app/core/access.py)
        return ROLE_LABELS[Role(self.role)]

    __hash__ = object.__hash__

    def __eq__(self, other):
        """The same person is the same id (UserMixin compares get_id(), a secret here)."""
        if isinstance(other, User):
            return self is other or (self.id is not None and self.id == other.id)
        return NotImplemented

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: this browser's
        sign-in (app/auth/sessions.py), never the bare user id, so ending it ends both."""
        token = getattr(self, "session_token", None)
        if token is None:
            raise RuntimeError("sign in through app.auth.sessions.start(), not login_user()")
        return token

    def department_names(self) -> list[str]:
        """The departments this member of staff answers questions for (app/core/access.py)."""
        return list(db.session.scalars(select(StaffDepartment.department).where(
            StaffDepartment.user_id == self.id).order_by(StaffDepartment.department)))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


class LoginSession(db.Model):
    """One signed-in browser. Its secret travels in the session and remember-me cookies; only
    its hash is kept, and ending the row makes every copy of those cookies useless."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_why: Mapped[str | None] = mapped_column(String(20))  # signed out, everywhere, password…

    __table_args__ = (Index("ix_login_session_user", "user_id", "ended_at"),)


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


class Consent(db.Model):
    """One person's agreement to one version of a document: 用户服务协议 and 隐私政策 at sign-in,
    and the separate consent to sensitive personal information (ID photos) per application."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    document: Mapped[str] = mapped_column(String(20))  # terms / privacy / sensitive
    version: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(40), default="")  # "" or "application:<id>"
    agreed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "document", "version", "scope",
                                       name="uq_consent_user_document_version_scope"),)


class StaffDepartment(db.Model):
    """A member of staff answers questions for this department (a clerk may serve several)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    department: Mapped[str] = mapped_column(String(80))

    user = relationship("User")

    __table_args__ = (
        UniqueConstraint("user_id", "department", name="uq_staff_department_user_department"),
        Index("ix_staff_department_department", "department"),
    )
