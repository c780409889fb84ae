"""Which outside identities may sign in as which account."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.timeutil import utcnow
from app.extensions import db

PROVIDER_LABELS = {"oidc": "统一身份认证", "wechat": "微信"}


class IdentityLink(db.Model):
    """One provider subject bound to one account; a subject signs in as exactly one person."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(255))
    # WeChat's unionid is shared by every app of one developer; kept for later merging.
    union_id: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(64))
    real_name_verified: Mapped[bool] = mapped_column(default=False)
    bound_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user = relationship("User", foreign_keys=[user_id])

    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_identity_link_subject"),)

    @property
    def provider_label(self) -> str:
        return PROVIDER_LABELS.get(self.provider, self.provider)
