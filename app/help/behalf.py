"""Bookings and applications on the citizen's behalf: the helper chooses, the citizen confirms.

An action on the citizen's behalf is only a pending record until the citizen types the SMS code;
then the booking or application is made as the citizen, through those features' own services.
"""

import hashlib
import hmac
import re
import secrets
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from app.applications import services as applications
from app.applications.drafts import AppError
from app.auth.models import User
from app.booking import opening
from app.booking import services as booking
from app.catalog.models import ServiceItem
from app.core.models import audit
from app.core.refusals import rolls_back
from app.core.states import machine, move
from app.core.timeutil import to_local, utcnow
from app.extensions import db
from app.help.models import HelpRequest, OnBehalf
from app.help.rules import ENTITY, HelpError, require_helper
from app.help.states import (
    BEHALF_ALLOWED,
    BEHALF_ENTITY,
    BEHALF_LABELS,
    BEHALF_STAMPS,
    BehalfStatus,
    HelpStatus,
)
from app.sms.services import queue_sms

CODE_TTL = timedelta(minutes=10)  # the SMS text says 10 minutes
CODE_MAX_TRIES = 3

B = BehalfStatus
ACTIONS = machine(
    OnBehalf, entity=BEHALF_ENTITY, allowed=BEHALF_ALLOWED, stamps=BEHALF_STAMPS,
    refused=lambda action, current, to: HelpError(
        f"这项代办已{BEHALF_LABELS[current][0]},请刷新页面查看", 409))


def cancel_pending(row: HelpRequest, actor_id: int | None, why: str) -> None:
    """The request's action still waiting for the citizen's code is cancelled (its code with it)."""
    for action in row.actions:
        if action.status == B.PENDING:
            move(action, B.CANCELLED, actor_id, why)


def slot_choices(row: HelpRequest, item_code: str, day: date | None):
    """The hall's items, and for the item the helper looks at (the request's by default) its
    days, the day shown (the first with a place left unless one is asked for) and its open
    slots: what the helper's page offers for an on-behalf booking."""
    hall_items = [i for i in db.session.scalars(select(ServiceItem).where(
        ServiceItem.retired_at.is_(None)).order_by(ServiceItem.code)) if row.hall in i.halls]
    code = item_code or (row.item.code if row.item else "")
    item = next((i for i in hall_items if i.code == code), None)
    days, slots = [], []
    if item is None or not item.bookable:
        return hall_items, item, days, None, slots
    opened = opening.plan(row.hall_id, item.id)
    days = opened.days
    now = utcnow()
    if day in days:
        shown = opening.day_slots(row.hall_id, item.id, day, opened.rules_on(day))
    else:  # the first day with a place left
        day, shown = opening.first_open_day(opened, now)
    slots = [s for s in shown if s.left and booking.slot_open(s, now)]
    return hall_items, item, days, day, slots


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
    cancel_pending(row, actor.id, "帮办员发起了新的代办")
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


@rolls_back
def confirm(row: HelpRequest, user: User, code: str) -> OnBehalf:
    """The citizen's code: make the booking or application as the citizen, or say why not."""
    action = db.session.scalar(select(OnBehalf).where(
        OnBehalf.request_id == row.id, OnBehalf.status == B.PENDING).with_for_update())
    if action is None:
        raise HelpError("没有待您确认的代办事项", 404)
    code = re.sub(r"\s", "", code or "")
    if not code:
        raise HelpError("请输入短信验证码", 400, field="code")
    if action.expires_at < utcnow():
        move(action, B.EXPIRED, user.id, "验证码已过期")
        db.session.commit()
        raise HelpError("验证码已过期,请联系帮办员重新发送", 410, field="code")
    if not hmac.compare_digest(action.code_hash, _hash(action.id, code)):
        action.attempts += 1
        left = CODE_MAX_TRIES - action.attempts
        if left <= 0:
            move(action, B.EXPIRED, user.id, "验证码错误次数过多")
        db.session.commit()
        raise HelpError(f"验证码不正确,还可以再试 {left} 次" if left > 0
                        else "验证码错误次数过多,请联系帮办员重新发送", 400, field="code")
    move(action, B.CONFIRMED, user.id, "群众输入验证码确认")
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
    move(action, B.FAILED, row.citizen_id, message[:200], error=message[:200])
    audit(ENTITY, row.id, row.status, actor_id=row.citizen_id, from_status=row.status,
          note=f"代办未成功:{message}", public_note=f"代办未成功:{message},帮办员会再与您联系")
    db.session.commit()
    return action
