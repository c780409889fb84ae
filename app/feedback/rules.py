"""What 办不成事 and 我要问 share: the refusal, the texts' limits, the item a citizen names, the
citizen's own rows, the reports' clocks in working days, and who answers for which department."""

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.auth.models import Role, StaffDepartment, User
from app.catalog.models import ServiceItem
from app.catalog.workdays import add_working_days, working_days_from
from app.core.access import VIEW, scope
from app.core.links import allows
from app.core.models import audit
from app.core.refusals import Refusal
from app.core.timeutil import end_of_local_day, to_local
from app.extensions import db

TEXT_MIN, TEXT_MAX = 5, 1000


class FeedbackError(Refusal):
    """A rule the person ran into (a Refusal), and every field's message for the form."""

    titles = {409: "已经处理过", 410: "已停止办理"}
    rule = "feedback"

    def __init__(self, message: str, status: int = 400, field: str | None = None,
                 errors: dict[str, str] | None = None):
        super().__init__(message, status, field)
        # every field's message, so a form shows them all at once
        self.errors = errors if errors is not None else ({field: message} if field else {})


# ---- the item and the citizen's own rows -------------------------------------------------------

def check_text(value: str, field: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise FeedbackError(f"请填写{what}", field=field)
    if len(value) < TEXT_MIN:
        raise FeedbackError(f"{what}太短了,请多写几句,至少 {TEXT_MIN} 个字", field=field)
    if len(value) > TEXT_MAX:
        raise FeedbackError(f"{what}不能超过 {TEXT_MAX} 个字,现在是 {len(value)} 个字",
                            field=field)
    return value


def find_item(code: str, field: str = "item") -> ServiceItem:
    if not (code or "").strip():
        raise FeedbackError("请选择要办的事项", field=field)
    item = item_by_code(code.strip())
    if item is None:
        raise FeedbackError("没有找到这个事项,请从列表中选择", field=field)
    return item


def item_by_code(code: str | None) -> ServiceItem | None:
    if not code:
        return None
    return db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))


def items_on_offer() -> list[ServiceItem]:
    """Every item still handled, by department: the list to choose from."""
    return list(db.session.scalars(select(ServiceItem).where(
        ServiceItem.retired_at.is_(None)).order_by(ServiceItem.department, ServiceItem.id)))


def citizens_row(model, entity: str, row_id: int, user, missing: str):
    """The row if it is this person's (or a link or lookup opened it to view); else a 404."""
    row = db.session.get(model, row_id)
    owner = row is not None and user.is_authenticated and row.citizen_id == user.id
    if row is None or not (owner or allows(entity, row_id, VIEW)):
        raise FeedbackError(missing, 404)
    return row


# ---- clocks -------------------------------------------------------------------------------------

def deadline(received_at: datetime, workdays: int, hall_id: int | None) -> datetime:
    """The end of the working day `workdays` after the one it came in (0: that same one).

    A report made on a holiday or weekend starts its clock on the next working day.
    """
    day = to_local(received_at).date()
    if workdays <= 0:
        return end_of_local_day(working_days_from(day, 1, hall_id)[0])
    return end_of_local_day(add_working_days(day, workdays, hall_id))


def clocks(received_at: datetime, hall_id: int) -> tuple[datetime, datetime]:
    """When the first reply and the resolution are due for a report received then."""
    cfg = current_app.config
    return (deadline(received_at, cfg.get("FEEDBACK_REPLY_WORKDAYS", 0), hall_id),
            deadline(received_at, cfg.get("FEEDBACK_RESOLVE_WORKDAYS", 5), hall_id))


# ---- who answers for which department ----------------------------------------------------------

def set_departments(user: User, departments: list[str], actor: User) -> None:
    """Replace the departments a member of staff answers for (an admin of their hall does it)."""
    if not user.is_staff:
        raise FeedbackError("只能设置本大厅工作人员的部门。", 403)
    scope(actor).change(user.hall_id)
    known = set(db.session.scalars(select(ServiceItem.department).distinct()))
    wanted = {d for d in departments if d in known}
    for row in db.session.scalars(select(StaffDepartment).where(
            StaffDepartment.user_id == user.id)):
        if row.department not in wanted:
            db.session.delete(row)
        wanted.discard(row.department)
    for name in sorted(wanted):
        db.session.add(StaffDepartment(user_id=user.id, department=name))
    audit("staff_department", user.id, "set", actor_id=actor.id,
          note="、".join(sorted(set(departments) & known)) or "(无)")
    db.session.commit()


def all_departments() -> list[str]:
    return list(db.session.scalars(select(ServiceItem.department).distinct()
                                   .order_by(ServiceItem.department)))


def hall_staff(actor: User) -> list[User]:
    """The staff of the hall(s) in the actor's scope: a city-wide admin's list is everyone's."""
    query = select(User).where(User.role.in_([Role.CLERK, Role.ADMIN]),
                               scope(actor).limit(User.hall_id))
    return list(db.session.scalars(query.order_by(User.role, User.id)))


def hall_member(actor: User, user_id: int | None) -> User:
    """A member of the staff of the actor's hall(s); anyone else is refused."""
    person = db.session.get(User, user_id or 0)
    if person is None or person not in hall_staff(actor):
        raise FeedbackError("只能设置本大厅工作人员的部门。", 403)
    return person
