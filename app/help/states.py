"""The help request's five steps (申请 → 初审 → 反馈 → 受理 → 评价), modes and their words."""

import enum


class HelpStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # 申请
    REVIEWED = "reviewed"  # 初审
    ANSWERED = "answered"  # 反馈
    ACCEPTED = "accepted"  # 受理; 评价 follows through the ratings feature
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


S = HelpStatus
ALLOWED = {
    S.SUBMITTED: {S.REVIEWED, S.DECLINED, S.WITHDRAWN},
    S.REVIEWED: {S.ANSWERED, S.DECLINED, S.WITHDRAWN},
    S.ANSWERED: {S.ACCEPTED, S.WITHDRAWN},
    S.ACCEPTED: set(),
    S.DECLINED: set(),
    S.WITHDRAWN: set(),
}
# A request that can go nowhere else is closed, and stamped so.
STAMPS = {status: "closed_at" for status, moves in ALLOWED.items() if not moves}
OPEN = (S.SUBMITTED.value, S.REVIEWED.value, S.ANSWERED.value)
LABELS = {S.SUBMITTED: ("已申请", "info"), S.REVIEWED: ("已初审", "info"),
          S.ANSWERED: ("已反馈", "warning"), S.ACCEPTED: ("已受理", "success"),
          S.DECLINED: ("未能帮办", "error"), S.WITHDRAWN: ("已撤回", "neutral")}
# The five steps as the citizen sees them, in order.
STEPS = [("submitted", "申请"), ("reviewed", "初审"), ("answered", "反馈"),
         ("accepted", "受理"), ("rated", "评价")]
# Asking is the person's own act on screen and 初审 the hall's own step: neither sends an SMS.
SMS = {S.ANSWERED: "help_feedback",
       S.ACCEPTED: "help_accepted", S.DECLINED: "help_declined"}
NEXT_STEPS = {S.SUBMITTED: "工作人员会在1个工作日内初审并与您联系,请保持电话畅通。",
              S.REVIEWED: "帮办员正在为您安排,会把办理安排反馈给您。",
              S.ANSWERED: "请按帮办员的反馈准备;如帮办员代您预约或申请,请输入短信验证码确认。",
              S.ACCEPTED: "已受理,欢迎对本次帮办服务作出评价。"}

MODES = {"phone": "电话回访", "hall": "到大厅帮办", "home": "上门服务"}
MODE_HINTS = {"phone": "工作人员打电话给您,电话里一步步帮您办",
              "hall": "到大厅后由帮办员陪同办理,不用排队",
              "home": "行动不便、年老体弱等不能到大厅的,工作人员上门办理"}

BEHALF_KINDS = {"booking": "预约", "application": "申请预审"}


class BehalfStatus(enum.StrEnum):
    """An action on the citizen's behalf: pending until they type the SMS code."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"  # confirmed, but the booking or application could not be made
    EXPIRED = "expired"  # the code ran out, or was typed wrong too often
    CANCELLED = "cancelled"  # a newer action replaced it, or the request was closed


B = BehalfStatus
BEHALF_ALLOWED = {B.PENDING: {B.CONFIRMED, B.EXPIRED, B.CANCELLED}, B.CONFIRMED: {B.FAILED},
                  B.FAILED: set(), B.EXPIRED: set(), B.CANCELLED: set()}
BEHALF_STAMPS = {B.CONFIRMED: "confirmed_at"}
BEHALF_LABELS = {B.PENDING: ("待您确认", "warning"), B.CONFIRMED: ("已确认", "success"),
                 B.FAILED: ("未成功", "error"), B.EXPIRED: ("已失效", "neutral"),
                 B.CANCELLED: ("已撤销", "neutral")}
BEHALF_ENTITY = "help_behalf"
