"""How a citizen receives the results of a completed matter, and Web Push subscriptions."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.timeutil import utcnow
from app.extensions import db


class DeliveryMethod:
    PICKUP = "pickup"  # 窗口领取
    COURIER = "courier"  # 快递送达


DELIVERY_LABELS = {DeliveryMethod.PICKUP: "到窗口领取", DeliveryMethod.COURIER: "快递送达"}
# The companies a hall posts results with (the 寄出 form offers these).
COURIERS = ("EMS", "邮政快递包裹", "顺丰速运", "京东物流", "中通快递", "圆通速递", "韵达快递",
            "申通快递")


class ResultDelivery(db.Model):
    """The citizen's choice for one matter (kind, id): pickup at the window or courier."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int]
    method: Mapped[str] = mapped_column(String(12))
    recipient: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(Text)
    chosen_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The matter's hall, so a hall's staff see the parcels they have to send (Scope.HALL).
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"), index=True)
    courier: Mapped[str | None] = mapped_column(String(20))  # 寄出: the company and 运单号
    tracking_no: Mapped[str | None] = mapped_column(String(40))
    sent_at: Mapped[datetime | None]
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "entity_id", name="uq_result_delivery_matter"),)

    @property
    def label(self) -> str:
        return DELIVERY_LABELS.get(self.method, self.method)


class PushSubscription(db.Model):
    """One browser that allowed Web Push for a citizen."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(500), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSent(db.Model):
    """A push already handed to one subscription, for one SMS or one push-only notice (the
    queue's 前面还有 N 人), so a re-run job skips it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_message.id"))
    notice: Mapped[str | None] = mapped_column(String(80))
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("push_subscription.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("message_id", "subscription_id",
                                       name="uq_push_sent_message_subscription"),
                      UniqueConstraint("notice", "subscription_id",
                                       name="uq_push_sent_notice_subscription"))
