"""Applications: drafts, photos, submission, the clerk's review and decision, retention.

Services own the transaction. Every status change goes through `move()`, which locks the
row, refuses moves the table does not allow, writes the audit row and queues the SMS with a short
link, all in the caller's transaction.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, g
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from app import jobs
from app.applications import idcard
from app.applications.drafts import (
    AppError,
    check_editable,
    item_fields,
    material_of,
)
from app.applications.models import Application, AppMaterial, Upload
from app.applications.states import (
    ALLOWED,
    DECISIONS,
    FIX_REASONS,
    LABELS,
    PUBLIC_NOTES,
    REJECT_REASONS,
    SMS,
    STAMPS,
    VERDICT_FIX,
    VERDICT_MISSING,
    VERDICT_OK,
    Status,
)
from app.auth.models import User
from app.catalog import fields as form_fields
from app.catalog.models import Bundle, ServiceItem
from app.catalog.services import bundle_items, merge_materials
from app.core import workdays
from app.core.access import PHOTOS, scope, staff_scope_or_none
from app.core.links import allows, make_link
from app.core.models import audit
from app.core.relatives import check_relative
from app.core.states import Step, machine, move
from app.core.timeutil import local_now, local_today, to_local, utcnow
from app.extensions import db
from app.licences.services import counts, issue_for
from app.progress.notify import push_along
from app.ratings import services as ratings
from app.reading import services as reading
from app.sms.services import find, queue_sms
from app.sms.templates import TEMPLATES
from app.uploads.imaging import ImageRejected, compress, inspect_upload
from app.uploads.storage import StorageUnavailable, get_storage

log = logging.getLogger(__name__)
ENTITY = "application"
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
UPLOAD_FAILED = "上传失败,请重试"


def cfg(name: str):
    return current_app.config[name]


# ---- access ----

def for_citizen(app_id: int, user, action: str | None = None) -> Application:
    """The signed-in owner's application, or one opened through a link (or lookup) whose purpose
    allows `action` (None: the owner only, app/core/links.py); else 404."""
    # Its materials and their photos come along: every citizen page shows them all.
    row = db.session.get(Application, app_id, options=[
        selectinload(Application.materials).selectinload(AppMaterial.uploads)])
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
    upload = db.session.get(Upload, upload_id)
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

def add_photo(row: Application, material_id: int, data: bytes | None, user_id: int,
              phone: dict | None = None, replaces: int | None = None) -> Upload:
    """Check one uploaded file, store it, and queue its compression; nothing is kept on refusal.

    `phone` is the phone's own check of the photo (智能预审), kept with it; `replaces` names a
    photo of the same material this one takes the place of (重拍这张), taken back in the same
    transaction."""
    material = material_of(row, material_id)
    check_editable(row, material)
    old = _replaced(row, material, replaces)
    if not data:
        raise AppError("请选择照片", 400)
    if len(data) > cfg("UPLOAD_MAX_BYTES"):
        raise AppError(f"照片不能超过 {cfg('UPLOAD_MAX_BYTES') // 1024 // 1024}MB", 413)
    count = sum(len(m.current) for m in row.materials) - (1 if old else 0)
    if count >= cfg("APPLICATION_MAX_PHOTOS"):
        raise AppError(f"每个办件最多上传 {cfg('APPLICATION_MAX_PHOTOS')} 张照片,"
                       "请先删除不需要的照片", 409)
    try:
        info = inspect_upload(data, max_bytes=cfg("UPLOAD_MAX_BYTES"),
                              max_pixels=cfg("UPLOAD_MAX_PIXELS"))
    except ImageRejected as exc:
        raise AppError(exc.message, 413 if exc.code == "too_large" else 400) from exc
    try:
        key = get_storage().save(data)
    except StorageUnavailable as exc:  # the photo store is down: say so, keep the page
        log.warning("photo store unavailable: %s", exc)
        raise AppError(UPLOAD_FAILED, 503) from exc
    upload = Upload(material=material, citizen_id=user_id, round=row.round, original_key=key,
                    format=info.format, width=info.width, height=info.height,
                    size_bytes=info.size_bytes)
    db.session.add(upload)
    reading.attach(upload, material, phone)
    db.session.flush()
    jobs.enqueue("applications.compress_photo", upload.id)
    keys = _take_back(old) if old else []
    db.session.commit()
    _delete_files(keys)
    return upload


def _replaced(row: Application, material: AppMaterial, upload_id: int | None) -> Upload | None:
    """The photo a new one replaces: this material's, of this round, not taken back already."""
    if upload_id is None:
        return None
    old = next((u for u in material.current if u.id == upload_id), None)
    if old is None or old.round != row.round:
        raise AppError("要替换的照片已不在,请直接上传新照片", 409)
    return old


def _take_back(upload: Upload) -> list:
    """Mark a photo taken back and forget what was read from it; the keys to delete after the
    commit."""
    upload.removed_at = utcnow()
    keys = [upload.original_key, upload.image_key, upload.thumb_key]
    upload.original_key = upload.image_key = upload.thumb_key = None
    reading.forget(upload)
    return keys


def remove_photo(row: Application, upload_id: int) -> AppMaterial:
    """Take back a photo of the current round; older versions stay for the clerk."""
    upload = db.session.get(Upload, upload_id)
    if upload is None or upload.material.application_id != row.id or upload.removed_at:
        check_editable(row)
        raise AppError("没有找到这张照片", 404)
    material = material_of(row, upload.material_id)
    check_editable(row, material)
    if upload.round != row.round:
        raise AppError("已提交审核的照片不能删除", 409)
    keys = _take_back(upload)
    db.session.commit()
    _delete_files(keys)
    return material


def _delete_files(keys) -> None:
    storage = get_storage()
    for key in keys:
        if key:
            storage.delete(key)


def compress_photo(upload_id: int) -> str:
    """The worker's part: decode near size, 1600 px without metadata, 320 px thumbnail."""
    upload = db.session.get(Upload, upload_id)
    if upload is None or upload.status != "pending" or upload.removed_at is not None:
        return "skipped"  # done already, or taken back: safe to run twice
    storage, original = get_storage(), upload.original_key  # (read before the commit expires it)
    try:
        result = compress(storage.open(original))
    except ImageRejected as exc:
        upload.status, upload.error = "failed", exc.message
        db.session.commit()
        return "failed"
    image_key, thumb_key = storage.save(result.image_bytes), storage.save(result.thumb_bytes)
    # A concurrent run may have finished first: only the one whose update lands keeps its files.
    done = db.session.execute(update(Upload).where(
        Upload.id == upload_id, Upload.status == "pending").values(
        status="ready", image_key=image_key, thumb_key=thumb_key, width=result.width,
        height=result.height, original_key=None))
    # 智能预审 reads documents from the compressed copy: queued with the change that makes it.
    read_job = reading.chain(upload_id) if done.rowcount == 1 else None
    db.session.commit()
    if done.rowcount != 1:
        _delete_files([image_key, thumb_key])
        return "skipped"
    reading.start(read_job)
    # The original (with its GPS and EXIF) is never served; keep nothing we do not need.
    _delete_files([original])
    return "ready"


def photo_key(upload: Upload, kind: str) -> str:
    """The stored key of the compressed copy or the thumbnail; the original is never served."""
    key = upload.thumb_key if kind == "thumb" else upload.image_key
    if not key or upload.status != "ready":
        raise AppError("照片正在处理,请稍候", 404)
    return key


def photo_bytes(upload: Upload, kind: str) -> bytes:
    """The compressed copy or the thumbnail; the original is never served."""
    try:
        return get_storage().open(photo_key(upload, kind))
    except FileNotFoundError as exc:
        raise AppError("没有找到这张照片", 404) from exc
    except StorageUnavailable as exc:
        log.warning("photo store unavailable: %s", exc)
        raise AppError("照片暂时打不开,请稍后再试", 503) from exc


# ---- reuse (材料复用) ----

def _material_key(name: str) -> str:
    return re.sub(r"[\s()()]", "", name)


def _checked_photos(user_id: int) -> list[Upload]:
    """This citizen's clerk-checked photos still fit for reuse, newest first (one query a request:
    the materials page asks for each of its cards)."""
    cache = g.setdefault("_checked_photos", {})
    if user_id not in cache:
        since = utcnow() - timedelta(days=cfg("MATERIAL_REUSE_DAYS"))
        cache[user_id] = db.session.scalars(select(Upload).where(
            Upload.citizen_id == user_id, Upload.trust == "B", Upload.status == "ready",
            Upload.checked_at >= since, Upload.removed_at.is_(None),
            Upload.superseded_at.is_(None)).options(joinedload(Upload.material))
            .order_by(Upload.checked_at.desc())).all()
    return cache[user_id]


def reusable(user_id: int, material: AppMaterial) -> Upload | None:
    """This citizen's latest clerk-checked photo of the same material, checked recently enough."""
    rows = _checked_photos(user_id)
    key = _material_key(material.name)
    return next((u for u in rows if _material_key(u.material.name) == key
                 and u.material.application_id != material.application_id), None)


def reuse(row: Application, material_id: int, user_id: int) -> AppMaterial:
    """Copy a checked photo into this application, keeping its level B and its checked date."""
    check_editable(row)
    material = material_of(row, material_id)
    source = reusable(user_id, material)
    if source is None:
        raise AppError("没有可复用的已核验材料,请拍照上传", 404)
    if any(u.reused_from_id == source.id for u in material.current):
        return material
    storage = get_storage()
    try:
        image, thumb = storage.open(source.image_key), storage.open(source.thumb_key)
    except FileNotFoundError as exc:
        raise AppError("原材料照片已过保存期限,请重新拍照上传", 410) from exc
    db.session.add(Upload(
        material=material, citizen_id=user_id, round=row.round, status="ready",
        image_key=storage.save(image), thumb_key=storage.save(thumb), format=source.format,
        width=source.width, height=source.height, size_bytes=source.size_bytes, trust="B",
        checked_at=source.checked_at, reused_from_id=source.id))
    db.session.commit()
    return material


# ---- the state machine ----

def _notify(step: Step, sms: tuple[str, str]) -> None:
    """The move's SMS to the applicant (and the relative's phone); a handled matter's carries
    the rating link."""
    row, to = step.record, step.to
    rate = _invite_rating(row, step.actor_id, step.now) if to in RATEABLE else None
    template, purpose = sms
    params = {"ref": row.number, "link": _link(purpose, row.id)}
    if "{rate}" in TEMPLATES[template].text:
        params["rate"] = rate or params["link"]
    message = queue_sms(row.citizen.phone, template, params,
                        key=f"application-move-{step.entry.id}")
    _push_along(message, row.citizen_id)
    if row.relative_phone and row.relative_phone != row.citizen.phone:
        queue_sms(row.relative_phone, template, params,
                  key=f"application-move-{step.entry.id}-relative")


APPLICATIONS = machine(
    Application, entity=ENTITY, allowed=ALLOWED, stamps=STAMPS, public_notes=PUBLIC_NOTES,
    sms=SMS, notify=_notify,
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


def _link(purpose: str, app_id: int) -> str:
    """A short link; outside a request (the daily job) it is built against SERVER_NAME."""
    return make_link(purpose, ENTITY, app_id)


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
    db.session.refresh(row, with_for_update=True)
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


# ---- retention and deadlines, run daily ----

HOUSEKEEPING = "applications.housekeeping"


def housekeeping(now: datetime | None = None) -> dict:
    """Purge photos of long-closed applications and lapse overdue 容缺 (daily, app/jobs.py)."""
    now = now or utcnow()
    return {"purged": purge_photos(now), "lapsed": lapse_overdue(now)}


def purge_photos(now: datetime) -> int:
    """Delete the files of applications closed longer ago than the retention; keep the audit."""
    cutoff = now - timedelta(days=cfg("PHOTO_RETENTION_DAYS"))
    rows = db.session.scalars(select(Application).where(
        Application.closed_at < cutoff, Application.photos_purged_at.is_(None))).all()
    for row in rows:
        keys = []
        for m in row.materials:
            for upload in m.uploads:
                keys += [upload.original_key, upload.image_key, upload.thumb_key]
                upload.original_key = upload.image_key = upload.thumb_key = None
                upload.status = "purged"
                reading.forget(upload)  # what was read from it goes with it
        row.photos_purged_at = now
        audit(ENTITY, row.id, row.status, from_status=row.status,
              note=f"照片已按保存期限({cfg('PHOTO_RETENTION_DAYS')}天)删除")
        db.session.commit()  # the rows first: a crash after this leaves only orphan files
        _delete_files(keys)
    return len(rows)


MISSING_REMINDERS = "applications.missing_reminders"
REMIND_WORKDAYS = 3  # the first reminder: this many working days before the deadline


def remind_missing(now: datetime | None = None) -> dict:
    """Remind each 容缺受理 citizen 3 working days before the deadline and on its last day.

    Safe to run any number of times a day: each reminder is one SMS per (application, deadline,
    which), by its idempotency key. A run missed on the day itself is made up the next working
    day before the deadline; an application accepted with less time than that gets no "soon"
    reminder (its acceptance SMS told the date) but still the last-day one. Quiet hours are
    kept by queue_sms.
    """
    today = to_local(now or utcnow()).date()
    rows = db.session.scalars(select(Application).where(
        Application.status == Status.ACCEPTED_WITH_MISSING,
        Application.missing_due >= today).order_by(Application.id)).all()
    sent = {"soon": 0, "last_day": 0}
    for row in rows:
        which = _reminder_due(row, today)
        if which and _remind(row, which, today):
            sent[which] += 1
    db.session.commit()
    return sent


def _reminder_due(row: Application, today: date) -> str | None:
    """Which reminder is due today for this application, if any."""
    if row.missing_due == today:
        return "last_day"
    left = workdays.working_days_between(today, row.missing_due, row.hall_id)
    if not 1 <= left <= REMIND_WORKDAYS:
        return None
    accepted = to_local(row.decided_at).date() if row.decided_at else today
    given = workdays.working_days_between(accepted, row.missing_due, row.hall_id)
    return "soon" if given > REMIND_WORKDAYS else None


def _remind(row: Application, which: str, today: date) -> bool:
    """Queue one reminder (and its copy to the family member); False if it went already."""
    key = f"application-missing-{which}:{row.id}:{row.missing_due.isoformat()}"
    if find(key) is not None:
        return False
    params = {"ref": row.number, "link": _link("progress", row.id),
              "due": f"{row.missing_due.month}月{row.missing_due.day}日",
              "left": str(workdays.working_days_between(today, row.missing_due, row.hall_id))}
    template = "app_missing_soon" if which == "soon" else "app_missing_last_day"
    message = queue_sms(row.citizen.phone, template, params, key=key)
    _push_along(message, row.citizen_id)
    if row.relative_phone and row.relative_phone != row.citizen.phone:
        queue_sms(row.relative_phone, template, params, key=f"{key}-relative")
    audit(ENTITY, row.id, row.status, from_status=row.status,
          note=f"容缺提醒已发送({'期限前' if which == 'soon' else '最后一天'})")
    return True


def _push_along(message, user_id: int) -> None:
    """The Web Push twin of an SMS, for a citizen who subscribed in the installed app."""
    push_along(message, user_id)


def lapse_overdue(now: datetime) -> int:
    """容缺受理 whose deadline has passed without the materials becomes 容缺逾期."""
    today = to_local(now).date()
    rows = db.session.scalars(select(Application).where(
        Application.status == Status.ACCEPTED_WITH_MISSING,
        Application.missing_due < today)).all()
    for row in rows:
        move(row, Status.LAPSED, note=f"期限{row.missing_due}已过")
        db.session.commit()
    return len(rows)
