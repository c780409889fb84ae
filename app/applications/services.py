"""Applications: drafts, photos, submission, the clerk's review and decision, retention.

Services own the transaction. Every status change goes through `move()`, which locks the
row, refuses moves the table does not allow, writes the audit row and queues the SMS with a short
link, all in the caller's transaction.
"""

import functools
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.applications import idcard
from app.applications.drafts import (
    AppError,
    check_editable,
    item_fields,
)
from app.applications.models import Application, AppMaterial, Upload
from app.applications.states import (
    ALLOWED,
    LABELS,
    PUBLIC_NOTES,
    QUIET,
    SMS,
    STAMPS,
    VERDICT_FIX,
    Status,
)
from app.auth import consent
from app.auth.models import User
from app.auth.relatives import check_relative
from app.catalog import fields as form_fields
from app.catalog.models import Bundle, ServiceItem
from app.catalog.services import bundle_items, merge_materials
from app.core.access import PHOTOS, scope, staff_scope_or_none
from app.core.links import allows, make_link
from app.core.models import AuditLog, audit
from app.core.refusals import rolls_back
from app.core.states import Step, lock, machine, move
from app.core.timeutil import local_now, utcnow
from app.extensions import db
from app.licences.services import counts
from app.progress.notify import push_along
from app.ratings import services as ratings
from app.sms.services import queue_sms
from app.sms.templates import TEMPLATES

log = logging.getLogger(__name__)
ENTITY = "application"
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
UPLOAD_FAILED = "上传失败,请重试"


# ---- access ----

@functools.cache
def _citizen_loads() -> tuple:
    """Built once, on first use (Upload.check comes from app/reading's models): each citizen
    request about an application loads with them (#19)."""
    return (joinedload(Application.materials).joinedload(AppMaterial.uploads).joinedload(
        Upload.check), joinedload(Application.item))


def for_citizen(app_id: int, user, action: str | None = None) -> Application:
    """The signed-in owner's application, or one opened through a link (or lookup) whose purpose
    allows `action` (None: the owner only, app/core/links.py); else 404."""
    # Its item, materials and their photos come along, in the same query (a handful of rows;
    # more queries cost more than the joined rows): every citizen page shows them all.
    row = db.session.get(Application, app_id, options=_citizen_loads())
    if row is None:
        raise AppError("没有找到这个办件", 404)
    owner = getattr(user, "is_authenticated", False) and row.citizen_id == user.id
    if not owner and not (action and allows(ENTITY, app_id, action)):
        raise AppError("没有找到这个办件", 404)  # never reveal that it exists
    return row


def for_clerk(app_id: int) -> Application:
    """An application of the hall in the request's staff scope; a draft is nobody's but the
    citizen's (404), another hall's is refused (403)."""
    row = db.session.get(Application, app_id)
    if row is None or row.status == Status.DRAFT:
        raise AppError("没有找到这个办件", 404)
    scope().read(row.hall_id)
    return row


def photo_for(upload_id: int, user) -> Upload:
    """A photo the asker may see: its owner (or a link allowing PHOTOS) or staff of that hall."""
    # Its material and application in the same query: every caller checks and shows them
    upload = db.session.get(Upload, upload_id, options=[
        joinedload(Upload.material).joinedload(AppMaterial.application),
        joinedload(Upload.check)])
    if upload is None or upload.removed_at is not None:
        raise AppError("没有找到这张照片", 404)
    app_row = upload.material.application
    staff = staff_scope_or_none()
    if staff is not None:
        if app_row.status == Status.DRAFT:
            raise AppError("没有找到这张照片", 404)
        staff.read(app_row.hall_id)
        return upload
    for_citizen(app_row.id, user, PHOTOS)
    return upload


# ---- drafts ----

def start(user: User, item: ServiceItem | None = None, bundle: Bundle | None = None
          ) -> Application:
    """The citizen's open draft for this item or bundle, or a new one with its materials."""
    query = select(Application).where(Application.citizen_id == user.id,
                                      Application.status == Status.DRAFT)
    query = query.where(Application.item_id == item.id) if item else query.where(
        Application.bundle_id == bundle.id)
    existing = db.session.scalar(query.order_by(Application.id.desc()))
    if existing:
        return existing
    items = [item] if item else bundle_items(bundle)
    hall = next((h for i in items for h in i.halls), None)
    if hall is None:
        raise AppError("该事项暂未开通拍照预审,请到大厅办理", 410)
    row = Application(citizen_id=user.id, item_id=item.id if item else None,
                      bundle_id=bundle.id if bundle else None, hall_id=hall.id,
                      title=(item or bundle).name,
                      promised_days=max(i.promised_days for i in items),
                      applicant_name=user.name, contact_phone=user.phone)
    for position, m in enumerate(merge_materials(items)):
        if not m.photo_ok:
            continue  # brought to the hall in person; nothing to photograph
        row.materials.append(AppMaterial(
            name=m.name, form_label=f"{'原件' if m.original else '复印件'} {m.copies} 份",
            notes=";".join(m.notes), may_be_missing=m.may_be_missing, position=position,
            document_kind=m.document_kind, source_id=m.source_id,
            licence_type=m.licence_type))
    db.session.add(row)
    db.session.flush()
    row.number = f"YS{local_now():%y%m%d}{row.id:04d}"
    db.session.commit()
    return row


@dataclass
class ApplicantForm:
    name: str = ""
    id_number: str = ""
    phone: str = ""
    relative_name: str = ""  # 为家人申请 (optional): named on the record, gets its SMS too
    relative_relation: str = ""
    relative_phone: str = ""
    errors: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)  # the item's own fields: key -> what was typed


def save_applicant(row: Application, form: ApplicantForm) -> ApplicantForm:
    """Check and keep the basic facts; errors by field, the typed values kept either way."""
    check_editable(row)
    fields = item_fields(row) if row.status == Status.DRAFT else []
    form.name, form.phone = form.name.strip(), form.phone.strip()
    form.id_number = idcard.normalize(form.id_number)
    if not form.name:
        form.errors["name"] = "请输入申请人姓名"
    elif len(form.name) > 40:
        form.errors["name"] = "姓名不能超过40个字"
    id_problem = idcard.problem(form.id_number)
    if id_problem:
        form.errors["id_number"] = id_problem
    if not PHONE_RE.match(form.phone):
        form.errors["phone"] = "请输入11位手机号码,如 13800138000"
    form.answers, field_errors = form_fields.check_answers(fields, form.answers)
    form.errors.update(field_errors)  # the item's fields come before the optional relative
    relative, relative_errors = check_relative(form.relative_name, form.relative_relation,
                                               form.relative_phone)
    form.errors.update(relative_errors)
    if form.errors:
        db.session.rollback()
        return form
    row.applicant_name, row.id_number, row.contact_phone = form.name, form.id_number, form.phone
    if row.status == Status.DRAFT:  # once submitted, the answers stay as the clerk saw them
        row.answers = form_fields.snapshot(fields, form.answers)
    for key in ("relative_name", "relative_relation", "relative_phone"):
        setattr(row, key, (relative or {}).get(key))
    db.session.commit()
    return form


# ---- photos ----


# ---- reuse (材料复用) ----


# ---- the state machine ----

def _notify(step: Step, sms: tuple[str, str]) -> None:
    """The move's SMS to the applicant (and the relative's phone); a handled matter's carries
    the rating link."""
    row, to = step.record, step.to
    rate = _invite_rating(row, step.actor_id, step.now) if to in RATEABLE else None
    template, purpose = sms
    params = {"ref": row.number, "link": link_for(purpose, row.id)}
    if "{rate}" in TEMPLATES[template].text:
        params["rate"] = rate or params["link"]
    message = queue_sms(row.citizen.phone, template, params,
                        key=f"application-move-{step.entry.id}")
    push_note(message, row.citizen_id)
    if row.relative_phone and row.relative_phone != row.citizen.phone:
        queue_sms(row.relative_phone, template, params,
                  key=f"application-move-{step.entry.id}-relative")


APPLICATIONS = machine(
    Application, entity=ENTITY, allowed=ALLOWED, stamps=STAMPS, public_notes=PUBLIC_NOTES,
    sms=SMS, quiet=QUIET, notify=_notify,
    refused=lambda row, current, to: AppError(
        f"办件{row.number}当前“{LABELS[current][0]}”,不能“{LABELS[to][0]}”", 409))


# 一事一评: a matter is rated once it is handled, 办结 or 不予受理 (the first of these); the
# outcome's own SMS carries the rating link, so the person gets one message, not two.
RATEABLE = (Status.REJECTED, Status.COMPLETED)


def _invite_rating(row: Application, clerk_id: int | None, served_at: datetime) -> str | None:
    """The invitation (no SMS of its own) and its short link, while it is still open."""
    item = row.item
    kwargs = dict(channel="online", entity=ENTITY, entity_id=row.id, citizen_id=row.citizen_id,
                  served_at=served_at, hall_id=row.hall_id, item_id=row.item_id,
                  clerk_id=clerk_id, department=item.department if item else None,
                  service="online", sms=False)
    invite = ratings.invite(**kwargs)
    return ratings.rate_link(invite) if ratings.is_open(invite) else None


def link_for(purpose: str, app_id: int) -> str:
    """A short link; outside a request (the daily job) it is built against SERVER_NAME."""
    return make_link(purpose, ENTITY, app_id)


@rolls_back
def submit(row: Application, user_id: int) -> None:
    """Send a draft (or a supplemented application) to the hall's queue."""
    problems = missing_before_submit(row)
    if problems:
        raise AppError(problems[0], 400, field="materials")
    now = utcnow()
    if row.status == Status.SUPPLEMENT_REQUESTED:
        for material in row.flagged:
            for old in material.current:
                if old.round < row.round:
                    old.superseded_at = now  # replaced, still shown to the clerk as history
            material.verdict = material.reason = material.reason_text = None
        row.claimed_by = row.claimed_at = None
        move(row, Status.SUBMITTED, user_id, note=f"第 {row.round} 次提交(补正后)",
             public_note="已补正材料并重新提交")
    else:
        row.submitted_at = now
        move(row, Status.SUBMITTED, user_id)
    row.queued_at = now
    db.session.commit()


def missing_before_submit(row: Application) -> list[str]:
    """What still stops a submit, in Chinese; empty when it may go."""
    if not (row.applicant_name and row.id_number and row.contact_phone):
        return ["请先填写申请人信息"]
    if row.status == Status.DRAFT:
        unanswered = form_fields.unanswered(item_fields(row), row.answers)
        if unanswered:
            return [f"请先在申请人信息中填写“{unanswered[0]}”"]

    problems = []
    for m in row.materials:
        photos = [u for u in m.current if u.status != "failed"]
        if row.status == Status.SUPPLEMENT_REQUESTED:
            if m.verdict == VERDICT_FIX and not any(u.round == row.round for u in photos):
                problems.append(f"请重新上传“{m.name}”")
        elif m.licence_id is not None and not photos and not counts(m):
            problems.append(f"“{m.name}”的电子证照已失效,请上传照片后再提交")
        elif not photos and not m.may_be_missing and not counts(m):
            problems.append(f"还缺“{m.name}”的照片,请上传后再提交")
    return problems


def withdraw(row: Application, user_id: int) -> None:
    move(row, Status.WITHDRAWN, user_id)
    db.session.commit()


def confirm_commitment(row: Application, user_id: int) -> None:
    """The citizen's 容缺承诺: they will bring the missing materials by the deadline."""
    lock(row)  # read afresh under the row lock
    if row.status != Status.ACCEPTED_WITH_MISSING:
        raise AppError("这个办件不需要确认容缺承诺", 409)
    if row.commitment_at is None:
        row.commitment_at = utcnow()
        names = "、".join(m.name for m in row.missing)
        audit(ENTITY, row.id, row.status, actor_id=user_id, from_status=row.status,
              note="群众已确认容缺承诺",
              public_note=f"您已承诺在{row.missing_due:%Y年%m月%d日}前补齐:{names}")
    db.session.commit()


# ---- the clerk ----


# ---- retention and deadlines, run daily ----


def push_note(message, user_id: int) -> None:
    """The Web Push twin of an SMS, for a citizen who subscribed in the installed app."""
    push_along(message, user_id)


# ---- what the pages read ----

def item_by_code(code: str) -> ServiceItem | None:
    """The item a draft is started for, with the halls and materials the draft copies (one
    query; a few rows each)."""
    return db.session.scalar(select(ServiceItem).where(ServiceItem.code == code).options(
        joinedload(ServiceItem.halls), joinedload(ServiceItem.materials)))


def bundle_by_code(code: str) -> Bundle | None:
    return db.session.scalar(select(Bundle).where(Bundle.code == code))


def draft_of(user_id: int, item: ServiceItem | None, bundle: Bundle | None) -> Application | None:
    """The citizen's draft for this item or bundle, to continue rather than start again."""
    return db.session.scalar(select(Application).where(
        Application.citizen_id == user_id, Application.status == Status.DRAFT,
        (Application.item_id == item.id) if item else (Application.bundle_id == bundle.id)))


def by_id(app_id: int) -> Application | None:
    return db.session.get(Application, app_id)


def applications_of(user_id: int) -> list[Application]:
    """我的办件: every application but the withdrawn, newest first."""
    return db.session.scalars(select(Application).where(
        Application.citizen_id == user_id, Application.status != Status.WITHDRAWN
    ).order_by(Application.updated_at.desc())).all()


def steps(row: Application, public: bool = True) -> list[AuditLog]:
    """The timeline, newest first: what the citizen sees, or (public=False) every step."""
    query = select(AuditLog).where(AuditLog.entity == ENTITY, AuditLog.entity_id == row.id)
    if public:
        query = query.where(AuditLog.public_note.is_not(None))
    return db.session.scalars(query.order_by(AuditLog.id.desc())).all()


def agree_sensitive(row: Application) -> None:
    """同意: the applicant's consent to sensitive personal information, for this application."""
    app_id = row.id  # read before the commit expires the row
    consent.record(row.citizen_id, ["sensitive"], consent.application_scope(app_id))
    db.session.commit()
    consent.note_sensitive_agreed(app_id)
