"""工作台: the staff member's entries, each with what waits there, counted in one query."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.applications.models import Application
from app.applications.states import Status
from app.auth.models import StaffDepartment
from app.booking.models import Booking, Ticket
from app.booking.states import BookingStatus, TicketStatus
from app.core.access import ADMINS, DESK, STAFF, scope, staff_role
from app.core.timeutil import local_today, utcnow
from app.extensions import db
from app.feedback.models import Question, UnresolvedReport
from app.feedback.states import QuestionStatus, ReportStatus
from app.help.models import HelpRequest
from app.help.states import OPEN
from app.progress.models import DeliveryMethod, ResultDelivery
from app.ratings.models import Rectification
from app.ratings.states import CLOCKED


@dataclass(frozen=True)
class Entry:
    endpoint: str
    title: str
    meta: str  # what the page is for, shown when nothing waits
    roles: frozenset
    count: str = ""  # "3 件,最久 2 小时"; empty when the entry counts nothing
    urgent: bool = False  # something is overdue


ENTRIES = (  # (endpoint, title, what it is for, who sees it)
    ("applications.review_queue", "预审队列", "审核群众上传的材料", STAFF),
    ("booking.clerk_day", "今日预约", "按窗口和时段查看,签到", STAFF),
    ("booking.queue", "取号叫号", "扫码签到、现场取号、叫号", DESK),
    ("progress.staff_deliveries", "快递寄送", "寄出办结结果,登记快递单号", STAFF),
    ("licences.verify_page", "核验亮证", "扫码或输入亮证码,核验群众的电子证照", DESK),
    ("licences.staff_list", "电子证照", "本大厅核发的证照,注销、换发、存量导入", STAFF),
    ("licences.staff_uses", "用证记录", "本大厅查看、核验和使用证照的记录", STAFF),
    ("ratings.cases", "差评整改", "联系群众、整改、回访", STAFF),
    ("help.staff_requests", "帮办代办", "电话回访、到厅陪办、上门服务、代为预约", STAFF),
    ("feedback.staff_reports", "办不成事", "群众反映没办成的事,当天答复", STAFF),
    ("feedback.staff_questions", "群众提问", "答复本部门事项的提问,公开为常见问题", STAFF),
    ("feedback.admin_departments", "答复部门", "设置工作人员负责答复的部门", ADMINS),
    ("catalog.admin_items", "事项管理", "事项、材料、一件事", ADMINS),
    ("catalog.admin_halls", "大厅与窗口", "大厅地址、办公时间,窗口和办理事项", ADMINS),
    ("booking.admin_rules", "预约设置", "时段、容量、节假日", ADMINS),
    ("ratings.dashboard", "好差评统计", "好评率、整改率等指标", ADMINS),
    ("sms.admin_messages", "短信记录", "发送状态、失败重发", ADMINS),
)


def entries(user) -> list[Entry]:
    """The entries this person may open, with their counts (one query for all of them)."""
    role = staff_role(user)
    shown = [(e, t, m, r) for e, t, m, r in ENTRIES if role in r]
    now = utcnow()
    counters = {endpoint: COUNTERS[endpoint] for endpoint, *_ in shown if endpoint in COUNTERS}
    columns = [column.label(f"{endpoint}|{name}") for endpoint, counter in counters.items()
               for name, column in counter.columns(user, now).items()]
    figures: dict[str, dict] = {}
    if columns:
        row = db.session.execute(select(*columns)).one()._mapping
        for key, value in row.items():
            endpoint, name = key.split("|")
            figures.setdefault(endpoint, {})[name] = value
    found = []
    for endpoint, title, meta, roles in shown:
        text, urgent = counters[endpoint].say(figures[endpoint], now) if (
            endpoint in counters) else ("", False)
        found.append(Entry(endpoint, title, meta, roles, text, urgent))
    return found


@dataclass(frozen=True)
class Counter:
    columns: Callable[..., dict]  # (user, now) -> {name: scalar subquery}
    say: Callable[[dict, datetime], tuple[str, bool]]


def _count(model, *where):
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


def waited(since: datetime | None, now: datetime) -> str:
    """How long the oldest has waited, in the largest whole unit: 40 分钟, 2 小时, 3 天."""
    if since is None:
        return ""
    minutes = max(int((now - since).total_seconds() // 60), 0)
    if minutes < 1:
        return "1 分钟内"
    if minutes < 60:
        return f"{minutes} 分钟"
    if minutes < 48 * 60:
        return f"{minutes // 60} 小时"
    return f"{minutes // 1440} 天"


def _review(user, now):
    waiting = (Application.status.in_([Status.SUBMITTED, Status.REVIEWING]),
               scope().limit(Application.hall_id))
    return {"n": _count(Application, *waiting),
            "oldest": select(func.min(Application.queued_at)).where(*waiting).scalar_subquery()}


def _say_review(f, now):
    if not f["n"]:
        return "暂无待审", False
    return f"{f['n']} 件,最久 {waited(f['oldest'], now)}", False


def _today(user, now):
    today = (Booking.day == local_today(), scope().limit(Booking.hall_id))
    return {"n": _count(Booking, *today, Booking.status != BookingStatus.CANCELLED),
            "in": _count(Booking, *today, Booking.checked_in_at.is_not(None))}


def _say_today(f, now):
    return (f"{f['n']} 个,已签到 {f['in']} 个" if f["n"] else "今天没有预约"), False


def _queue(user, now):
    return {"n": _count(Ticket, Ticket.day == local_today(), scope().limit(Ticket.hall_id),
                        Ticket.status == TicketStatus.WAITING)}


def _say_queue(f, now):
    return (f"等候 {f['n']} 人" if f["n"] else "暂无等候"), False


def _deliveries(user, now):
    waiting = (ResultDelivery.method == DeliveryMethod.COURIER, ResultDelivery.sent_at.is_(None),
               scope().limit(ResultDelivery.hall_id))
    return {"n": _count(ResultDelivery, *waiting),
            "oldest": select(func.min(ResultDelivery.updated_at)).where(*waiting)
            .scalar_subquery()}


def _say_deliveries(f, now):
    # a parcel waits from the citizen's choice (updated_at), as the page lists them
    if not f["n"]:
        return "暂无待寄出", False
    return f"{f['n']} 件待寄出,最久 {waited(f['oldest'], now)}", False


def _cases(user, now):
    active = (Rectification.status.in_([str(s) for s in CLOCKED]),
              Rectification.due_at.is_not(None), scope().limit(Rectification.hall_id))
    return {"n": _count(Rectification, *active),
            "late": _count(Rectification, *active, Rectification.due_at < now)}


def _say_cases(f, now):
    if not f["n"]:
        return "暂无待整改", False
    return f"{f['n']} 件待整改" + (f",{f['late']} 件超时" if f["late"] else ""), bool(f["late"])


def _help(user, now):
    open_ = (HelpRequest.status.in_(OPEN), scope().limit(HelpRequest.hall_id))
    return {"n": _count(HelpRequest, *open_),
            "free": _count(HelpRequest, *open_, HelpRequest.helper_id.is_(None)),
            "oldest": select(func.min(HelpRequest.created_at)).where(*open_).scalar_subquery()}


def _say_help(f, now):
    if not f["n"]:
        return "暂无待办", False
    free = f",{f['free']} 件未接单" if f["free"] else ""
    return f"{f['n']} 件{free},最久 {waited(f['oldest'], now)}", False


def _reports(user, now):
    return {"n": _count(UnresolvedReport, UnresolvedReport.status != ReportStatus.RESOLVED,
                        scope().limit(UnresolvedReport.hall_id))}


def _say_reports(f, now):
    return (f"{f['n']} 件未办结" if f["n"] else "暂无待处理"), False


def _questions(user, now):
    mine = select(StaffDepartment.department).where(StaffDepartment.user_id == user.id)
    return {"n": _count(Question, Question.status == QuestionStatus.OPEN,
                        Question.department.in_(mine))}


def _say_questions(f, now):
    return (f"{f['n']} 个待答复" if f["n"] else "暂无待答复"), False


COUNTERS = {
    "applications.review_queue": Counter(_review, _say_review),
    "booking.clerk_day": Counter(_today, _say_today),
    "booking.queue": Counter(_queue, _say_queue),
    "progress.staff_deliveries": Counter(_deliveries, _say_deliveries),
    "ratings.cases": Counter(_cases, _say_cases),
    "help.staff_requests": Counter(_help, _say_help),
    "feedback.staff_reports": Counter(_reports, _say_reports),
    "feedback.staff_questions": Counter(_questions, _say_questions),
}
