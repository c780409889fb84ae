"""How the progress pages (进度查询) read bookings: the "booking" matter kind."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.booking.models import Booking
from app.booking.states import LABELS, BookingStatus
from app.core.timeutil import utcnow
from app.extensions import db
from app.progress.registry import MatterSummary, register_matter_kind

NEXT_STEPS = {"booked": "请按预约时间带齐材料到大厅,出示预约号或二维码签到取号。",
              "checked_in": "已取号,请留意大厅叫号屏和短信。",
              "called": "已叫号,请尽快到窗口办理。",
              "served": "", "cancelled": "", "no_show": "如仍需办理,请重新预约。"}
HALL_CANCELLED = "大厅因故取消了这次预约,不计入您的取消或爽约次数。请重新选择时间预约。"


ACTIVE = ("booked", "checked_in", "called")


def _booking_summary(b):
    label, tone = LABELS[BookingStatus(b.status)]
    by_hall = b.status == BookingStatus.CANCELLED and b.cancel_reason == "hall"
    again = f"/book/bundle/{b.bundle.code}" if b.bundle else f"/book/{b.item.code}/hall/{b.hall_id}"
    return MatterSummary(
        kind="booking", id=b.id, number=b.number,
        title=b.bundle.name if b.bundle else b.item.name,
        status_label=label, status_tone=tone, citizen_id=b.citizen_id, phone=b.citizen.phone,
        created_at=b.created_at,
        next_step=HALL_CANCELLED if by_hall else NEXT_STEPS.get(b.status, ""),
        action_label="重新预约" if by_hall else "", action_url=again if by_hall else None,
        contact_phone=b.hall.phone or "", hall_id=b.hall_id, hall_name=b.hall.name,
        completed=False, detail_url=f"/bookings/{b.id}", appointment=b.starts_at,
        upcoming=b.status in ACTIVE and b.ends_at >= utcnow())


def _shown() -> list:
    """What a summary shows, read with the booking in one query (summaries change nothing).
    Built when asked: at import the mappers are not all known yet."""
    return [joinedload(Booking.item), joinedload(Booking.hall), joinedload(Booking.bundle),
            joinedload(Booking.citizen)]


def _list(user_id):
    rows = db.session.scalars(select(Booking).where(Booking.citizen_id == user_id).options(
        *_shown()).order_by(Booking.created_at.desc())).all()
    return [_booking_summary(b) for b in rows]


def _get(booking_id):
    b = db.session.get(Booking, booking_id, options=_shown())
    return _booking_summary(b) if b else None


def _find(number):
    b = db.session.scalar(select(Booking).where(Booking.number == number).options(*_shown()))
    return _booking_summary(b) if b else None


def register() -> None:
    """Tell the progress feature about bookings."""
    register_matter_kind(kind="booking", label="预约", list_for_user=_list, get=_get,
                         find_by_number=_find)
