"""Photos of an application's materials: checked on upload, compressed in the worker, served to
whoever may see them, and reused from the citizen's checked photos of the last year (材料复用)."""

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import g
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from app import jobs
from app.applications.drafts import (
    AppError,
    cfg,
    check_editable,
    material_of,
)
from app.applications.models import Application, AppMaterial, Upload
from app.applications.services import UPLOAD_FAILED
from app.core.refusals import rolls_back
from app.core.timeutil import utcnow
from app.extensions import db
from app.reading import services as reading
from app.reading.models import PhotoCheck
from app.uploads.imaging import ImageRejected, compress, inspect_upload
from app.uploads.storage import StorageUnavailable, get_storage

log = logging.getLogger(__name__)



@rolls_back
def add_photo(row: Application, material_id: int, data: bytes | None, user_id: int,
              phone: dict | None = None, replaces: int | None = None,
              draw: Callable[[Upload], Any] = lambda upload: upload) -> Any:
    """Check one uploaded file, store it, and queue its compression; nothing is kept on refusal.

    `phone` is the phone's own check of the photo (智能预审), kept with it; `replaces` names a
    photo of the same material this one takes the place of (重拍这张), taken back in the same
    transaction. `draw(upload)` makes the answer just before the commit, from the rows this
    transaction already holds (after the commit each would be read again); its result is
    returned, the upload by default."""
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
    answer = draw(upload)
    db.session.commit()
    delete_files(keys)
    return answer


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
    delete_files(keys)
    return material


def delete_files(keys) -> None:
    storage = get_storage()
    for key in keys:
        if key:
            storage.delete(key)


def compress_photo(upload_id: int) -> str:
    """The worker's part: decode near size, 1600 px without metadata, 320 px thumbnail."""
    # What the run needs of the photo and of its reading check, in one statement (the ORM's get
    # would load the whole row, then the check in a second query, and chain() read it a third
    # time: #19).
    found = db.session.execute(_TO_COMPRESS, {"upload_id": upload_id}).first()
    if found is None or found.status != "pending" or found.removed_at is not None:
        return "skipped"  # done already, or taken back: safe to run twice
    storage, original = get_storage(), found.original_key
    try:
        result = compress(storage.open(original))
    except ImageRejected as exc:
        db.session.execute(update(Upload).where(
            Upload.id == upload_id, Upload.status == "pending").values(
            status="failed", error=exc.message).execution_options(synchronize_session=False))
        db.session.commit()
        return "failed"
    image_key, thumb_key = storage.save(result.image_bytes), storage.save(result.thumb_bytes)
    # A concurrent run may have finished first: only the one whose update lands keeps its files.
    done = db.session.execute(update(Upload).where(
        Upload.id == upload_id, Upload.status == "pending").values(
        status="ready", image_key=image_key, thumb_key=thumb_key, width=result.width,
        height=result.height, original_key=None).execution_options(synchronize_session=False))
    # 智能预审 reads documents from the compressed copy: queued with the change that makes it.
    read_job = reading.chain(upload_id, found.check_status) if done.rowcount == 1 else None
    db.session.commit()
    if done.rowcount != 1:
        delete_files([image_key, thumb_key])
        return "skipped"
    reading.start(read_job)
    # The original (with its GPS and EXIF) is never served; keep nothing we do not need.
    delete_files([original])
    return "ready"


_TO_COMPRESS = select(Upload.status, Upload.removed_at, Upload.original_key,
                      PhotoCheck.status.label("check_status")).outerjoin(
    PhotoCheck, PhotoCheck.upload_id == Upload.id).where(Upload.id == bindparam("upload_id"))


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
