"""The citizen's booking record and the bar: no-shows and own cancellations within COUNT_DAYS
bar online booking for BAR_DAYS (BOOKING_* settings); a hall's cancellations never count."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select

from app.booking.models import Booking
from app.booking.opening import cfg
from app.booking.states import BookingStatus
from app.core.timeutil import to_local, utcnow
from app.extensions import db


def counted_events(user_id: int, since: datetime) -> tuple[list[datetime], list[datetime]]:
    """What the bar counts, since `since`: the person's no-shows and their own cancellations
    (not a hall's, not a change of time), each as the time it happened, oldest first. One
    query for both."""
    rows = db.session.execute(select(Booking.status, Booking.no_show_at, Booking.cancelled_at)
                              .where(Booking.citizen_id == user_id, or_(
        and_(Booking.status == BookingStatus.NO_SHOW, Booking.no_show_at >= since),
        and_(Booking.status == BookingStatus.CANCELLED, Booking.cancel_reason == "citizen",
             Booking.cancelled_at >= since)))).all()
    no_shows = [r.no_show_at for r in rows if r.status == BookingStatus.NO_SHOW]
    cancels = [r.cancelled_at for r in rows if r.status == BookingStatus.CANCELLED]
    return sorted(no_shows), sorted(cancels)


def _bar_from(no_shows: list[datetime], cancels: list[datetime],
              now: datetime) -> tuple[date | None, str]:
    window, bar = timedelta(days=cfg("COUNT_DAYS")), timedelta(days=cfg("BAR_DAYS"))
    best, why = None, ""
    for events, limit, word in ((no_shows, cfg("NO_SHOW_LIMIT"), "爽约"),
                                (cancels, cfg("CANCEL_LIMIT"), "取消预约")):
        for i, at in enumerate(events):
            # The limit is reached at `at` when `limit` events fall in the window ending there.
            if i + 1 >= limit and at - events[i + 1 - limit] <= window:
                until = at + bar
                if until > now and (best is None or until > best):
                    best = until
                    why = f"{cfg('COUNT_DAYS')} 天内{word} {limit} 次"
    if best is None:
        return None, ""
    return to_local(best).date() + timedelta(days=1), why


def _rule_since(now: datetime) -> datetime:
    return now - timedelta(days=cfg("COUNT_DAYS")) - timedelta(days=cfg("BAR_DAYS"))


def barred_until(user_id: int, now: datetime | None = None) -> tuple[date | None, str]:
    """The local date online booking opens again for this person, and why; (None, "") if free."""
    now = now or utcnow()
    return _bar_from(*counted_events(user_id, _rule_since(now)), now)


def bar_if_cancelled(user_id: int, now: datetime | None = None) -> tuple[date | None, str]:
    """The bar one more cancellation now would bring, if it brings one the person has not got."""
    now = now or utcnow()
    no_shows, cancels = counted_events(user_id, _rule_since(now))
    if _bar_from(no_shows, cancels, now)[0] is not None:
        return None, ""  # already barred: this cancel changes nothing they do not know
    return _bar_from(no_shows, [*cancels, now], now)


@dataclass(frozen=True)
class BookingRecord:
    """近 N 天 of one citizen: what the bar counts, and the bar if there is one."""

    days: int
    cancels: int
    no_shows: int
    barred_until: date | None
    why: str


def booking_record(user_id: int, now: datetime | None = None) -> BookingRecord:
    """The citizen's recent record, counted by the bar's own function (one pair of queries)."""
    now = now or utcnow()
    days = cfg("RECORD_DAYS")
    no_shows, cancels = counted_events(user_id, min(_rule_since(now),
                                                    now - timedelta(days=days)))
    recent = now - timedelta(days=days)
    until, why = _bar_from(no_shows, cancels, now)
    return BookingRecord(days, sum(at >= recent for at in cancels),
                         sum(at >= recent for at in no_shows), until, why)


def bar_message(user_id: int) -> str | None:
    until, why = barred_until(user_id)
    if until is None:
        return None
    return (f"您{why},暂停网上预约至 {until:%Y年%m月%d日}(含当天起恢复)。"
            f"在此之前请直接到大厅取号办理。")
