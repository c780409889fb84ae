"""Help requests: asking for help, withdrawing, and reading them (the citizen's own, a hall's).

Services own the transaction. The helper's steps are in steps.py, the service area in areas.py,
and bookings and applications on the citizen's behalf in behalf.py.
"""

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from app.auth.models import Role, User
from app.catalog.models import Hall, ServiceItem
from app.core.access import scope
from app.core.models import AuditLog, audit
from app.core.states import move
from app.core.timeutil import local_now
from app.extensions import db
from app.help.areas import areas, outside_message, outside_names
from app.help.behalf import cancel_pending
from app.help.models import HelpRequest
from app.help.rules import ENTITY, NOT_FOUND, HelpError
from app.help.states import MODES, OPEN, HelpStatus
from app.help.steps import notify

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


@dataclass
class RequestForm:
    hall_id: str = ""
    mode: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    area_id: str = ""
    address: str = ""
    reason: str = ""
    details: str = ""
    errors: dict = field(default_factory=dict)
    status: int = 400


def halls_for(item: ServiceItem | None) -> list[Hall]:
    if item is not None and item.halls:
        return list(item.halls)
    return list(db.session.scalars(select(Hall).order_by(Hall.id)))


def _check(form: RequestForm, item: ServiceItem | None) -> Hall | None:
    form.contact_name, form.address = form.contact_name.strip(), form.address.strip()
    form.reason, form.details = form.reason.strip(), form.details.strip()
    form.contact_phone = re.sub(r"[\s-]", "", form.contact_phone)
    halls = {str(h.id): h for h in halls_for(item)}
    hall = halls.get(form.hall_id.strip())
    if hall is None:
        form.errors["hall_id"] = "请选择办理大厅"
    if form.mode not in MODES:
        form.errors["mode"] = "请选择帮办方式"
    if not form.contact_name:
        form.errors["contact_name"] = "请输入联系人姓名"
    elif len(form.contact_name) > 40:
        form.errors["contact_name"] = "姓名不能超过40个字"
    if not form.contact_phone:
        form.errors["contact_phone"] = "请输入联系电话,工作人员会打这个电话联系您"
    elif not PHONE_RE.match(form.contact_phone):
        form.errors["contact_phone"] = "请输入11位手机号码,如 13800138000"
    if len(form.details) > 500:
        form.errors["details"] = "需要帮办的内容不能超过500字"
    if form.mode == "home":
        _check_home(form, hall)
    return hall


def _check_home(form: RequestForm, hall: Hall | None) -> None:
    if not form.address:
        form.errors["address"] = "请填写上门地址,如 兴安北大路 12 号 3 单元 501 室"
    elif len(form.address) > 200:
        form.errors["address"] = "地址不能超过200字"
    if not form.reason:
        form.errors["reason"] = "请说明不能到大厅的原因,如 行动不便、年老体弱"
    elif len(form.reason) > 200:
        form.errors["reason"] = "原因不能超过200字"
    if hall is None:
        return
    own = {str(a.id): a for a in areas(hall.id)}
    if not form.area_id:
        form.errors["area_id"] = "请选择您所在的街道或乡镇"
    elif form.area_id not in own or any(n in form.address for n in outside_names(hall)):
        form.errors["area_id"] = outside_message(hall)
        form.status = 422


def create(user: User, item: ServiceItem | None, form: RequestForm) -> HelpRequest | None:
    """Check the request (every problem at once, typed values kept) and record it."""
    form.errors, form.status = {}, 400
    hall = _check(form, item)
    if form.errors:
        db.session.rollback()
        return None
    home = form.mode == "home"
    row = HelpRequest(
        citizen_id=user.id, hall_id=hall.id, item_id=item.id if item else None, mode=form.mode,
        contact_name=form.contact_name, contact_phone=form.contact_phone,
        area_id=int(form.area_id) if home else None, address=form.address if home else None,
        reason=form.reason if home else None, details=form.details or None)
    db.session.add(row)
    db.session.flush()
    row.number = f"BB{local_now():%y%m%d}{row.id:04d}"
    entry = audit(ENTITY, row.id, HelpStatus.SUBMITTED.value, actor_id=user.id,
                  public_note=f"已提交帮办申请({row.mode_label})")
    db.session.flush()
    notify(row, HelpStatus.SUBMITTED, entry)
    db.session.commit()
    return row


def withdraw(row: HelpRequest, user: User) -> None:
    cancel_pending(row, user.id, "群众撤回了帮办申请")
    move(row, HelpStatus.WITHDRAWN, user.id, public_note="您已撤回帮办申请")
    db.session.commit()


# ---- access ----

def for_citizen(request_id: int, user) -> HelpRequest:
    """The signed-in owner's request; anyone else is told it does not exist."""
    row = db.session.get(HelpRequest, request_id)
    if row is None or not getattr(user, "is_authenticated", False) or row.citizen_id != user.id:
        raise HelpError(NOT_FOUND, 404)
    return row


def for_staff(request_id: int, user) -> HelpRequest:
    """A request of a hall in the staff member's scope (app/core/access.py); another hall's is
    refused (403)."""
    row = db.session.get(HelpRequest, request_id)
    if row is None:
        raise HelpError(NOT_FOUND, 404)
    scope(user).read(row.hall_id)
    return row


def requests_for(user, show: str = "open") -> list[HelpRequest]:
    query = select(HelpRequest).where(scope(user).limit(HelpRequest.hall_id))
    if show == "mine":
        query = query.where(HelpRequest.helper_id == user.id, HelpRequest.status.in_(OPEN))
    elif show == "open":
        query = query.where(HelpRequest.status.in_(OPEN))
    return list(db.session.scalars(query.order_by(HelpRequest.created_at).limit(200)))


def helpers_of(hall_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.hall_id == hall_id, User.role.in_([Role.CLERK, Role.ADMIN]),
        User.active.is_(True)).order_by(User.id)))


def notes(row: HelpRequest) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(
        AuditLog.entity == ENTITY, AuditLog.entity_id == row.id).order_by(AuditLog.id.desc())))


def public_steps(row: HelpRequest) -> list[AuditLog]:
    return [n for n in notes(row) if n.public_note]


# ---- what the pages read ----

def requests_of(user) -> list[HelpRequest]:
    """The citizen's own requests, the latest 50 first."""
    return list(db.session.scalars(select(HelpRequest).where(
        HelpRequest.citizen_id == user.id).order_by(HelpRequest.created_at.desc()).limit(50)))


def open_item(code: str) -> ServiceItem | None:
    """The item a request is about, while it is still handled."""
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == code))
    return None if item is None or item.retired_at is not None else item
