"""The booking and ticket state machines: which moves are allowed, and their words."""

import enum


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CALLED = "called"
    SERVED = "served"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class TicketStatus(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"


B = BookingStatus
# A checked-in person who walks away after being called is also a no-show (过号).
ALLOWED = {
    B.BOOKED: {B.CHECKED_IN, B.CANCELLED, B.NO_SHOW},
    B.CHECKED_IN: {B.CALLED},
    B.CALLED: {B.CALLED, B.SERVED, B.NO_SHOW},
    B.SERVED: set(),
    B.CANCELLED: set(),
    B.NO_SHOW: set(),
}
# The time each move stamps on the booking.
STAMPS = {B.CANCELLED: "cancelled_at", B.CHECKED_IN: "checked_in_at", B.NO_SHOW: "no_show_at"}
ACTIVE = (B.BOOKED.value, B.CHECKED_IN.value, B.CALLED.value)

T = TicketStatus
TICKET_ALLOWED = {
    T.WAITING: {T.CALLED},
    T.CALLED: {T.CALLED, T.SERVED, T.NO_SHOW},
    T.SERVED: set(),
    T.NO_SHOW: set(),
}
# The time a ticket's end stamps (a call's time is set by every call, re-calls too).
TICKET_STAMPS = {T.SERVED: "finished_at", T.NO_SHOW: "finished_at"}
# Where a booked ticket's move takes its booking.
TICKET_BOOKING = {T.CALLED: B.CALLED, T.SERVED: B.SERVED, T.NO_SHOW: B.NO_SHOW}

LABELS = {B.BOOKED: ("已预约", "info"), B.CHECKED_IN: ("已取号", "info"),
          B.CALLED: ("正在叫号", "warning"), B.SERVED: ("已办理", "success"),
          B.CANCELLED: ("已取消", "neutral"), B.NO_SHOW: ("未到场", "error")}
TICKET_LABELS = {T.WAITING: ("等候中", "info"), T.CALLED: ("请到窗口", "warning"),
                 T.SERVED: ("已办理", "success"), T.NO_SHOW: ("已过号", "error")}
# The citizen's timeline, one Chinese sentence per move.
PUBLIC_NOTES = {B.BOOKED: "预约成功", B.CHECKED_IN: "已到大厅签到取号",
                B.CALLED: "已叫号,请到窗口办理", B.SERVED: "窗口已办理完毕",
                B.CANCELLED: "预约已取消", B.NO_SHOW: "预约时段内未到场,记为爽约一次"}
