"""Help requests: asking, the helper's five steps, notes, and bookings/applications on behalf.

Services own the transaction. Every status change goes through `move()`: lock the row,
refuse moves the table forbids, audit (the public note is the citizen's timeline), queue the SMS.
An action on the citizen's behalf is only a pending record until the citizen types the SMS code;
then the booking or application is made as the citizen, through those features' own services.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_login import current_user
from sqlalchemy import select

from app.applications import services as applications
from app.applications.drafts import AppError
from app.auth.models import Role, User
from app.booking import opening
from app.booking import services as booking
from app.catalog.models import Hall, ServiceItem
from app.core.access import scope
from app.core.links import make_link
from app.core.models import AuditLog, audit
from app.core.refusals import Refusal
from app.core.states import machine, move
from app.core.timeutil import local_now, to_local, utcnow
from app.extensions import db
from app.help.models import HelpArea, HelpRequest, OnBehalf
from app.help.states import ALLOWED, LABELS, MODES, OPEN, SMS, STAMPS, HelpStatus
from app.progress.notify import push_along
from app.ratings import services as ratings
from app.ratings.models import RatingInvite
from app.sms.services import queue_sms

ENTITY = "help_request"
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
CODE_TTL = timedelta(minutes=10)  # the SMS text says 10 minutes
CODE_MAX_TRIES = 3
NOT_FOUND = "没有找到这条帮办申请"


class HelpError(Refusal):
    """A refused 帮办代办 action (a Refusal); 返回 leads to the person's own list."""

    default_status = 409
    titles = {403: "不能这样操作", 422: "不在服务范围"}
    heading = "帮办代办"
    rule = "help"

    def way_back(self) -> str | None:
        if self.back_url:
            return self.back_url
        staff = current_user.is_authenticated and current_user.is_staff
        return url_for("help.staff_requests") if staff else url_for("help.mine")


# ---- the service area ----

def areas(hall_id: int) -> list[HelpArea]:
    return list(db.session.scalars(select(HelpArea).where(HelpArea.hall_id == hall_id)
                                   .order_by(HelpArea.position, HelpArea.id)))


def _outside_names(hall: Hall) -> list[str]:
    """Places that belong to other halls: an address naming one of them is outside this area."""
    own = {a.name for a in areas(hall.id)} | {hall.area}
    other_halls = db.session.scalars(select(Hall).where(Hall.id != hall.id)).all()
    names = {h.area for h in other_halls if h.area}
    names |= set(db.session.scalars(select(HelpArea.name).where(HelpArea.hall_id != hall.id)))
    return sorted(n for n in names - own if n)


def outside_message(hall: Hall) -> str:
    names = "、".join(a.name for a in areas(hall.id)) or hall.area or "本辖区"
    return (f"您的地址不在{hall.name}上门服务范围内(服务范围:{names})。"
            f"可以改选“电话回访”,或联系您所在地的政务服务中心。")


def add_area(hall: Hall, name: str, actor_id: int) -> HelpArea:
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise HelpError("请输入街道或乡镇名称(40字以内)", 400, field="name")
    if any(a.name == name for a in areas(hall.id)):
        raise HelpError(f"“{name}”已在服务范围内", 409, field="name")
    row = HelpArea(hall_id=hall.id, name=name, position=len(areas(hall.id)))
    db.session.add(row)
    db.session.flush()
    audit("help_area", row.id, "added", actor_id=actor_id, note=f"{hall.name} {name}")
    db.session.commit()
    return row


def remove_area(hall: Hall, area_id: int, actor_id: int) -> None:
    row = db.session.get(HelpArea, area_id)
    if row is None or row.hall_id != hall.id:
        raise HelpError("没有找到这个服务地区", 404)
    audit("help_area", row.id, "removed", actor_id=actor_id, note=f"{hall.name} {row.name}")
    db.session.delete(row)
    db.session.commit()


# ---- asking ----

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
    elif form.area_id not in own or any(n in form.address for n in _outside_names(hall)):
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
    _notify(row, HelpStatus.SUBMITTED, entry)
    db.session.commit()
    return row


def withdraw(row: HelpRequest, user: User) -> None:
    for action in row.actions:
        if action.status == "pending":
            action.status = "cancelled"
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


def require_helper(row: HelpRequest, user: User) -> None:
    """Only the named helper acts on a request; everyone else gets 403 with the reason."""
    if row.helper_id is None:
        raise HelpError("这条帮办申请还没有指派帮办员,请先接单", 403)
    if row.helper_id != user.id:
        raise HelpError(f"这条帮办申请已指派给{row.helper.display_name},"
                        "只有指派的帮办员可以办理", 403)


def notes(row: HelpRequest) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(
        AuditLog.entity == ENTITY, AuditLog.entity_id == row.id).order_by(AuditLog.id.desc())))


def public_steps(row: HelpRequest) -> list[AuditLog]:
    return [n for n in notes(row) if n.public_note]


# ---- the state machine ----

def _link(row: HelpRequest) -> str:
    return make_link("progress", ENTITY, row.id)


def _notify(row: HelpRequest, to: HelpStatus, entry: AuditLog, extra: dict | None = None) -> None:
    """The step's SMS to the account's phone, and to the contact phone when that differs."""
    template = SMS.get(to)
    if template is None:
        return
    params = {"link": _link(row), **(extra or {})}
    if to == HelpStatus.REVIEWED:
        params["name"] = (row.helper.name or "工作人员")[:8]
    phones = [row.citizen.phone, row.contact_phone]
    for n, phone in enumerate(dict.fromkeys(p for p in phones if p)):
        message = queue_sms(phone, template, params, key=f"help-step-{entry.id}-{n}")
        if phone == row.citizen.phone:  # its push twin, in the account holder's installed app
            push_along(message, row.citizen_id)


REQUESTS = machine(
    HelpRequest, entity=ENTITY, allowed=ALLOWED, stamps=STAMPS, sms=SMS,
    refused=lambda row, current, to: HelpError(
        f"帮办申请{row.number}当前“{LABELS[current][0]}”,不能“{LABELS[to][0]}”,请刷新页面", 409),
    notify=lambda step, template: _notify(step.record, step.to, step.entry))


# ---- the helper's steps ----

def _text(raw: str, message: str, limit: int = 500) -> str:
    text = (raw or "").strip()
    if not text:
        raise HelpError(message, 400, field="text")
    if len(text) > limit:
        raise HelpError(f"内容不能超过{limit}字", 400, field="text")
    return text


def assign(row: HelpRequest, actor: User, helper_id: int | None) -> None:
    """接单 (a helper takes it) or, for the hall admin, 指派 to a named helper of the hall."""
    if not row.is_open:
        raise HelpError(f"帮办申请{row.number}已{row.label[0]},不能再指派", 409)
    helper_id = helper_id or actor.id
    if actor.role != Role.ADMIN:
        if helper_id != actor.id:
            raise HelpError("只有大厅管理员可以把帮办申请指派给其他人", 403)
        if row.helper_id not in (None, actor.id):
            require_helper(row, actor)
    helper = db.session.get(User, helper_id)
    if helper is None or not helper.is_staff or helper.hall_id != row.hall_id:
        raise HelpError("请选择本大厅的工作人员作为帮办员", 400, field="helper_id")
    before = row.helper
    row.helper_id, row.assigned_at = helper.id, utcnow()
    note = f"指派帮办员:{helper.display_name}"
    if before is not None and before.id != helper.id:
        note = f"帮办员由{before.display_name}改为{helper.display_name}"
    audit(ENTITY, row.id, row.status, actor_id=actor.id, from_status=row.status, note=note,
          public_note=f"帮办员{helper.name or '工作人员'}为您服务")
    db.session.commit()


def review(row: HelpRequest, actor: User, raw: str) -> None:
    """初审: the helper has checked the request and contacted the citizen."""
    require_helper(row, actor)
    text = _text(raw, "请填写初审意见,如 已电话联系,需办理的事项和材料")
    move(row, HelpStatus.REVIEWED, actor.id, note=text,
         public_note=f"初审通过,帮办员{actor.name or '工作人员'}将为您办理")
    db.session.commit()


def give_feedback(row: HelpRequest, actor: User, raw: str) -> None:
    """反馈: what will happen, when, and what to prepare; the citizen reads it as written."""
    require_helper(row, actor)
    text = _text(raw, "请填写给群众的反馈,如 上门时间和需准备的材料")
    row.feedback = text
    move(row, HelpStatus.ANSWERED, actor.id, note=text, public_note=f"帮办员反馈:{text}")
    db.session.commit()


def accept(row: HelpRequest, actor: User, raw: str) -> None:
    """受理: the matter has been handled for them; the citizen may now rate it (评价)."""
    require_helper(row, actor)
    text = _text(raw, "请填写受理情况,如 已上门核验材料并代为提交")
    entry = move(row, HelpStatus.ACCEPTED, actor.id, note=text, public_note=f"已受理:{text}",
                 sms=False)
    rate = _invite_rating(row, actor, entry.created_at or utcnow())
    # one SMS: the outcome, with the rating link inside, worded for how they were helped
    _notify(row, HelpStatus.ACCEPTED, entry, {"rate": rate or _link(row),
                                              "service": RATED_SERVICE[row.mode][1]})
    db.session.commit()


def decline(row: HelpRequest, actor: User, raw: str) -> None:
    require_helper(row, actor)
    text = _text(raw, "请写明不能帮办的原因和建议")
    for action in row.actions:
        if action.status == "pending":
            action.status = "cancelled"
    move(row, HelpStatus.DECLINED, actor.id, note=text, public_note=f"未能帮办:{text}")
    db.session.commit()


def add_note(row: HelpRequest, actor: User, raw: str) -> None:
    """A working note for staff only: calls made, what was agreed."""
    require_helper(row, actor)
    text = _text(raw, "请填写备注内容")
    audit(ENTITY, row.id, row.status, actor_id=actor.id, from_status=row.status, note=text)
    db.session.commit()


# How the person was helped: the rating's service (its SMS wording) and the words for it.
RATED_SERVICE = {"phone": ("phone", "电话帮办"), "hall": ("visit", "大厅帮办"),
                 "home": ("home", "上门帮办")}


def _invite_rating(row: HelpRequest, actor: User, served_at: datetime) -> str | None:
    """The invitation (its link rides in the 受理 SMS) and its short link, while it is open."""
    kwargs = dict(channel="online" if row.mode == "phone" else "onsite", entity=ENTITY,
                  entity_id=row.id, citizen_id=row.citizen_id, served_at=served_at,
                  hall_id=row.hall_id, item_id=row.item_id, clerk_id=actor.id,
                  department=row.item.department if row.item else "帮办代办",
                  service=RATED_SERVICE[row.mode][0], sms=False)
    invite = ratings.invite(**kwargs)
    return ratings.rate_link(invite) if ratings.is_open(invite) else None


def rating_invite(row: HelpRequest):
    return db.session.scalar(select(RatingInvite).where(
        RatingInvite.entity == ENTITY, RatingInvite.entity_id == row.id))


# ---- on the citizen's behalf ----

def _hash(behalf_id: int, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"help-behalf|{behalf_id}|{code}".encode(), hashlib.sha256).hexdigest()


def _can_act_for(row: HelpRequest, actor: User) -> None:
    require_helper(row, actor)
    if row.status not in (HelpStatus.REVIEWED, HelpStatus.ANSWERED):
        raise HelpError("请先完成初审,再代群众预约或申请", 409)
    if not row.citizen.phone:
        raise HelpError("群众账号没有手机号,无法发送确认验证码", 409)


def start_booking(row: HelpRequest, actor: User, slot_key: str) -> OnBehalf:
    """Choose a slot for the citizen (a key from opening.slot_key: the page lists slots whose
    rows may not be made yet); nothing is booked until they confirm with the code."""
    _can_act_for(row, actor)
    slot = opening.slot_by_key(slot_key)
    if slot is None or slot.hall_id != row.hall_id:
        raise HelpError("请选择本大厅的一个预约时段", 400, field="slot_id")
    if not slot.left or not booking.slot_open(slot):
        raise HelpError("这个时段已约满或已过,请选择其他时段", 409, field="slot_id")
    slot = opening.made_slot(slot)
    item = db.session.get(ServiceItem, slot.item_id)
    what = f"预约{to_local(slot.starts_at):%m月%d日 %H:%M}办理{item.name}"
    return _pending(row, actor, "booking", item, slot.id, what)


def start_application(row: HelpRequest, actor: User, item_id: int | None) -> OnBehalf:
    """Start a photo pre-review for the citizen; the draft exists once they confirm."""
    item = db.session.get(ServiceItem, item_id) if item_id else None
    _can_act_for(row, actor)
    if item is None or item.retired_at is not None or not item.prereview or (
            row.hall not in item.halls):
        raise HelpError("请选择本大厅可拍照预审的事项", 400, field="item_id")
    return _pending(row, actor, "application", item, None, f"申请“{item.name}”拍照预审")


def _pending(row, actor, kind, item, slot_id, what) -> OnBehalf:
    now = utcnow()
    for old in row.actions:
        if old.status == "pending":
            old.status = "cancelled"
    code = f"{secrets.randbelow(10**6):06d}"
    action = OnBehalf(request_id=row.id, kind=kind, item_id=item.id, slot_id=slot_id,
                      idem_key=secrets.token_urlsafe(18), code_hash="-", created_by=actor.id,
                      expires_at=now + CODE_TTL)
    db.session.add(action)
    db.session.flush()
    action.code_hash = _hash(action.id, code)
    audit(ENTITY, row.id, row.status, actor_id=actor.id, from_status=row.status,
          note=f"代办:{what}(待群众确认)",
          public_note=f"帮办员代您{what},请输入短信验证码确认")
    queue_sms(row.citizen.phone, "help_confirm_code",
              {"code": code, "what": "预约" if kind == "booking" else "申请预审"},
              key=f"help-behalf-{action.id}", expires_at=action.expires_at)
    db.session.commit()
    return action


def confirm(row: HelpRequest, user: User, code: str) -> OnBehalf:
    """The citizen's code: make the booking or application as the citizen, or say why not."""
    action = db.session.scalar(select(OnBehalf).where(
        OnBehalf.request_id == row.id, OnBehalf.status == "pending").with_for_update())
    if action is None:
        raise HelpError("没有待您确认的代办事项", 404)
    code = re.sub(r"\s", "", code or "")
    if not code:
        raise HelpError("请输入短信验证码", 400, field="code")
    if action.expires_at < utcnow():
        action.status = "expired"
        db.session.commit()
        raise HelpError("验证码已过期,请联系帮办员重新发送", 410, field="code")
    if not hmac.compare_digest(action.code_hash, _hash(action.id, code)):
        action.attempts += 1
        left = CODE_MAX_TRIES - action.attempts
        if left <= 0:
            action.status = "expired"
        db.session.commit()
        raise HelpError(f"验证码不正确,还可以再试 {left} 次" if left > 0
                        else "验证码错误次数过多,请联系帮办员重新发送", 400, field="code")
    action.status, action.confirmed_at = "confirmed", utcnow()
    db.session.commit()
    return _carry_out(row, user, action)


def _carry_out(row: HelpRequest, user: User, action: OnBehalf) -> OnBehalf:
    if action.kind == "booking":
        try:
            made = booking.book(user, action.slot_id, action.idem_key)
        except booking.BookingError as err:
            return _failed(row, action, err.message)
        action.booking_id = made.id
        public = f"您已确认,代预约成功,预约号 {made.number}"
    else:
        try:
            made = applications.start(user, item=action.item)
        except AppError as err:
            return _failed(row, action, err.message)
        action.application_id = made.id
        public = f"您已确认,代申请的预审已建立,办件编号 {made.number}"
    audit(ENTITY, row.id, row.status, actor_id=user.id, from_status=row.status,
          note=f"群众已确认代办({action.kind_label})", public_note=public)
    db.session.commit()
    return action


def _failed(row: HelpRequest, action: OnBehalf, message: str) -> OnBehalf:
    db.session.rollback()
    action = db.session.get(OnBehalf, action.id)
    action.status, action.error = "failed", message[:200]
    audit(ENTITY, row.id, row.status, actor_id=row.citizen_id, from_status=row.status,
          note=f"代办未成功:{message}", public_note=f"代办未成功:{message},帮办员会再与您联系")
    db.session.commit()
    return action
