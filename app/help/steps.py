"""The helper's five steps on a help request (指派, 初审, 反馈, 受理 or 不予帮办) and working notes.

Every status change goes through `move()`: lock the row, refuse moves the table forbids, audit
(the public note is the citizen's timeline), queue the SMS. Services own the transaction.
"""

from datetime import datetime

from sqlalchemy import select

from app.auth.models import Role, User
from app.core.links import make_link
from app.core.models import AuditLog, audit
from app.core.refusals import rolls_back
from app.core.states import machine, move
from app.core.timeutil import utcnow
from app.extensions import db
from app.help.behalf import cancel_pending
from app.help.models import HelpRequest
from app.help.rules import ENTITY, HelpError, require_helper
from app.help.states import ALLOWED, LABELS, SMS, STAMPS, HelpStatus
from app.progress.notify import push_along
from app.ratings import services as ratings
from app.ratings.models import RatingInvite
from app.sms.services import queue_sms


def _link(row: HelpRequest) -> str:
    return make_link("progress", ENTITY, row.id)


def notify(row: HelpRequest, to: HelpStatus, entry: AuditLog, extra: dict | None = None) -> None:
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
    notify=lambda step, template: notify(step.record, step.to, step.entry))


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


@rolls_back
def review(row: HelpRequest, actor: User, raw: str) -> None:
    """初审: the helper has checked the request and contacted the citizen."""
    require_helper(row, actor)
    text = _text(raw, "请填写初审意见,如 已电话联系,需办理的事项和材料")
    move(row, HelpStatus.REVIEWED, actor.id, note=text,
         public_note=f"初审通过,帮办员{actor.name or '工作人员'}将为您办理")
    db.session.commit()


@rolls_back
def give_feedback(row: HelpRequest, actor: User, raw: str) -> None:
    """反馈: what will happen, when, and what to prepare; the citizen reads it as written."""
    require_helper(row, actor)
    text = _text(raw, "请填写给群众的反馈,如 上门时间和需准备的材料")
    row.feedback = text
    move(row, HelpStatus.ANSWERED, actor.id, note=text, public_note=f"帮办员反馈:{text}")
    db.session.commit()


@rolls_back
def accept(row: HelpRequest, actor: User, raw: str) -> None:
    """受理: the matter has been handled for them; the citizen may now rate it (评价)."""
    require_helper(row, actor)
    text = _text(raw, "请填写受理情况,如 已上门核验材料并代为提交")
    entry = move(row, HelpStatus.ACCEPTED, actor.id, note=text, public_note=f"已受理:{text}",
                 sms=False)
    rate = _invite_rating(row, actor, entry.created_at or utcnow())
    # one SMS: the outcome, with the rating link inside, worded for how they were helped
    notify(row, HelpStatus.ACCEPTED, entry, {"rate": rate or _link(row),
                                              "service": RATED_SERVICE[row.mode][1]})
    db.session.commit()


@rolls_back
def decline(row: HelpRequest, actor: User, raw: str) -> None:
    require_helper(row, actor)
    text = _text(raw, "请写明不能帮办的原因和建议")
    cancel_pending(row, actor.id, "帮办员不予帮办")
    move(row, HelpStatus.DECLINED, actor.id, note=text, public_note=f"未能帮办:{text}")
    db.session.commit()


@rolls_back
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
