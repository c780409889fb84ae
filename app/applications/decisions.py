"""The clerk's side of pre-review: the queue, claiming, the decision per material (合格, 补正,
容缺受理, 不予受理) and the steps after it. Every status change goes through move()."""

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, update

from app.applications.drafts import (
    AppError,
)
from app.applications.models import Application, AppMaterial
from app.applications.services import ENTITY
from app.applications.states import (
    DECISIONS,
    FIX_REASONS,
    REJECT_REASONS,
    VERDICT_FIX,
    VERDICT_MISSING,
    VERDICT_OK,
    Status,
)
from app.auth.models import User
from app.catalog import workdays
from app.core.access import scope
from app.core.models import audit
from app.core.states import move
from app.core.timeutil import local_today, utcnow
from app.extensions import db
from app.licences.services import issue_for
from app.reading import services as reading

log = logging.getLogger(__name__)



def queue_for() -> list[Application]:
    """The submitted and in-review applications of the hall(s) in scope, oldest first."""
    query = select(Application).where(Application.status.in_(
        [Status.SUBMITTED, Status.REVIEWING]), scope().limit(Application.hall_id))
    return list(db.session.scalars(query.order_by(Application.queued_at, Application.id)))


def claim(row: Application, clerk: User) -> None:
    """Take an application for review; a conditional update, so two clerks never both get it."""
    taken = db.session.execute(update(Application).where(
        Application.id == row.id, Application.status == Status.SUBMITTED,
        Application.claimed_by.is_(None)).values(claimed_by=clerk.id, claimed_at=utcnow()))
    if taken.rowcount != 1:
        db.session.rollback()
        db.session.refresh(row)
        if row.claimed_by == clerk.id and row.status == Status.REVIEWING:
            return
        who = row.clerk.display_name if row.clerk else "其他工作人员"
        raise AppError(f"{who}已在审核这个办件", 409)
    move(row, Status.REVIEWING, clerk.id, note=f"{clerk.display_name}认领")
    db.session.commit()


def take_over(row: Application, clerk: User, seen_claimer: int | None) -> None:
    """Take a claimed application from a colleague knowingly: only if it is still theirs."""
    if seen_claimer is None or seen_claimer == clerk.id:
        raise AppError("这个办件没有被其他人认领", 409)
    taken = db.session.execute(update(Application).where(
        Application.id == row.id, Application.status == Status.REVIEWING,
        Application.claimed_by == seen_claimer).values(claimed_by=clerk.id, claimed_at=utcnow()))
    if taken.rowcount != 1:
        db.session.rollback()
        raise AppError("这个办件的审核人已经变了,请刷新后再看", 409)
    before = db.session.get(User, seen_claimer)
    audit(ENTITY, row.id, Status.REVIEWING.value, actor_id=clerk.id,
          from_status=Status.REVIEWING.value,
          note=f"{clerk.display_name}接手{before.display_name if before else ''}的审核")
    db.session.commit()


def _own_claim(row: Application, clerk: User) -> None:
    if row.status != Status.REVIEWING or row.claimed_by != clerk.id:
        raise AppError("请先认领这个办件再审核", 409)


def release(row: Application, clerk: User) -> None:
    _own_claim(row, clerk)
    row.claimed_by = row.claimed_at = None
    move(row, Status.SUBMITTED, clerk.id, note="放回队列", public_note="等待窗口工作人员审核")
    db.session.commit()


@dataclass
class Decision:
    decision: str = ""
    verdicts: dict = field(default_factory=dict)  # material id -> (verdict, reason, text)
    due: str = ""
    reason: str = ""
    reason_text: str = ""
    errors: dict = field(default_factory=dict)


def max_due(row: Application) -> date:
    """The latest deadline for missing materials: the item's promised limit in working days."""
    return workdays.add_working_days(local_today(), row.promised_days, row.hall_id)


def decide(row: Application, clerk: User, form: Decision) -> Decision:
    """Record a verdict per material and one decision; every problem reported at once."""
    _own_claim(row, clerk)
    _check_verdicts(row, form)
    if form.decision not in DECISIONS:
        form.errors["decision"] = "请选择审核结论"
    elif form.decision == "accept":
        if any(v[0] != VERDICT_OK for v in form.verdicts.values()):
            form.errors["decision"] = "有材料不合格或缺少,不能预审通过;请选择退回补正或容缺受理"
    elif form.decision == "accept_missing":
        _check_missing(row, form)
    elif form.decision == "supplement":
        if not any(v[0] == VERDICT_FIX for v in form.verdicts.values()):
            form.errors["decision"] = "退回补正时请至少标出一项需补正的材料"
    elif form.decision == "reject":
        if form.reason not in REJECT_REASONS:
            form.errors["reason"] = "请选择不予受理的原因"
        elif form.reason == "other" and not form.reason_text.strip():
            form.errors["reason"] = "请写明不予受理的原因"
    if form.errors:
        db.session.rollback()
        return form
    _apply(row, clerk, form)
    db.session.commit()
    return form


def _check_verdicts(row: Application, form: Decision) -> None:
    for m in row.materials:
        verdict, reason, text = form.verdicts.get(m.id, ("", "", ""))
        if form.decision == "reject":
            continue
        if verdict not in (VERDICT_OK, VERDICT_FIX, VERDICT_MISSING):
            form.errors[f"m{m.id}"] = f"请给出“{m.name}”的审核意见"
        elif verdict == VERDICT_FIX and reason not in FIX_REASONS:
            form.errors[f"m{m.id}"] = f"请选择“{m.name}”需补正的原因"
        elif verdict == VERDICT_FIX and reason == "other" and not text.strip():
            form.errors[f"m{m.id}"] = f"请写明“{m.name}”需补正的原因"
        elif verdict == VERDICT_MISSING and not m.may_be_missing:
            form.errors[f"m{m.id}"] = f"“{m.name}”不能容缺,请选择合格或需补正"
        elif verdict == VERDICT_OK and not m.current:
            form.errors[f"m{m.id}"] = f"“{m.name}”没有照片,不能判为合格"


def _check_missing(row: Application, form: Decision) -> None:
    verdicts = [v[0] for v in form.verdicts.values()]
    if VERDICT_FIX in verdicts:
        form.errors["decision"] = "有需补正的材料,请选择退回补正"
    elif VERDICT_MISSING not in verdicts:
        form.errors["decision"] = "容缺受理时请至少标出一项容缺的材料"
    limit = max_due(row)
    try:
        due = date.fromisoformat(form.due)
    except ValueError:
        form.errors["due"] = "请选择补齐材料的期限"
        return
    if due < local_today() or due > limit:
        form.errors["due"] = (f"期限不能晚于承诺时限({row.promised_days}个工作日,"
                              f"{limit:%Y年%m月%d日}),也不能早于今天")


def _apply(row: Application, clerk: User, form: Decision) -> None:
    now = utcnow()
    for m in row.materials:
        if form.decision == "reject":
            break
        m.verdict, m.reason, text = form.verdicts[m.id]
        m.reason_text = text.strip() or None
        if m.verdict != VERDICT_FIX:
            m.reason = m.reason_text = None
        if m.verdict == VERDICT_OK:
            for upload in m.current:  # a clerk-checked copy becomes level B (材料复用)
                upload.trust, upload.checked_at = "B", upload.checked_at or now
    row.decided_at = now
    if form.decision != "reject":  # the figures page's hint-and-verdict agreement
        reading.record_verdicts(row, now)
    if form.decision == "accept":
        move(row, Status.ACCEPTED, clerk.id,
             public_note=f"预审通过,请携带原件到{row.hall.name}办理")
    elif form.decision == "accept_missing":
        row.missing_due = date.fromisoformat(form.due)
        names = "、".join(m.name for m in row.missing)
        row.decision_note = f"容缺材料:{names}"
        move(row, Status.ACCEPTED_WITH_MISSING, clerk.id, note=row.decision_note,
             public_note=f"已容缺受理,请在{row.missing_due:%Y年%m月%d日}前补齐:{names}")
    elif form.decision == "supplement":
        lines = [f"{m.name}:{fix_reason(m)}" for m in row.flagged]
        row.decision_note = ";".join(lines)
        row.round += 1
        move(row, Status.SUPPLEMENT_REQUESTED, clerk.id, note=row.decision_note,
             public_note="需补正:" + ";".join(lines))
    else:
        reason = REJECT_REASONS[form.reason]
        text = form.reason_text.strip()
        row.decision_note = f"{reason}:{text}" if text else reason
        move(row, Status.REJECTED, clerk.id, note=row.decision_note,
             public_note=f"不予受理,原因:{row.decision_note}")


def fix_reason(m: AppMaterial) -> str:
    label = FIX_REASONS.get(m.reason or "", "")
    if m.reason == "other" or not label:
        return m.reason_text or label
    return f"{label}({m.reason_text})" if m.reason_text else label


def mark_supplied(row: Application, clerk: User) -> None:
    """The missing materials arrived (at the counter or online): the acceptance is complete."""
    scope().read(row.hall_id)
    for m in row.missing:
        m.verdict = VERDICT_OK
    move(row, Status.ACCEPTED, clerk.id, note="容缺材料已补齐",
         public_note="容缺材料已补齐,受理完成")
    db.session.commit()


def advance(row: Application, clerk: User, to: Status) -> None:
    """开始办理 and 办结 at the counter, after pre-review."""
    if to not in (Status.PROCESSING, Status.COMPLETED):
        raise AppError("不能这样操作", 400)
    move(row, to, clerk.id)
    if to == Status.COMPLETED:
        issue_for(row, clerk.id)  # an item that issues a licence: 电子证照 on 办结
    db.session.commit()
