"""智能预审: the phone's check kept with the photo, the worker's reading, findings and hints.

The reading runs after compression as its own outbox job. Without Redis (the embedded default)
jobs run inline after the request's commit, which would make the upload wait for OCR; there the
reading job is recorded a little in the future and handed to this process's reading thread right
after the compression commits, so the card answers at once with 识别中 and the poll picks up the
findings. If the process dies first, the row is still in the outbox (`flask jobs sweep`).
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from time import perf_counter

from flask import current_app, has_request_context
from sqlalchemy import func, select, update

from app import jobs
from app.applications.drafts import AppError, answer_values, item_fields
from app.catalog import fields as form_fields
from app.core.timeutil import local_day_bounds, utcnow
from app.extensions import db
from app.reading import background, engine, extract, findings, kinds
from app.reading.models import PhotoCheck, ReadingStatus
from app.uploads.storage import get_storage

log = logging.getLogger(__name__)
READ_JOB = "reading.read_photo"
PHONE_ISSUES = {"dark": "偏暗", "blurred": "可能不清晰", "small": "太小"}  # "照片…,建议重拍"
# How long the card waits with 识别中 before it stops asking (a worker that is far behind):
# the photo is kept either way and the clerk looks at it as usual.
GIVE_UP_AFTER = timedelta(minutes=5)
# Embedded default: the reading job's due time, so that a sweep leaves it to the reading thread.
THREAD_GRACE = timedelta(seconds=60)


def enabled() -> bool:
    return bool(current_app.config["PHOTO_READING"])


# ---- the phone's check, recorded with the photo ----

def phone_check(form) -> dict:
    """The phone's quality check from the upload form (all absent without JavaScript)."""
    issues = [i for i in (form.get("check_issues") or "").split(",") if i in PHONE_ISSUES]

    def number(name, kind, low, high):
        try:
            value = kind(form.get(name) or "")
        except ValueError:
            return None
        return value if low <= value <= high else None

    return {"phone_issues": ",".join(issues) or None,
            "phone_kept": (form.get("check_kept") == "1") if issues else None,
            "phone_retakes": number("check_retakes", int, 0, 99) or 0,
            "brightness": number("check_brightness", int, 0, 255),
            "sharpness": number("check_sharpness", float, 0, 1e6)}


def attach(upload, material, phone: dict | None = None) -> PhotoCheck:
    """The check row of a new photo, in the upload's transaction."""
    kind = kinds.get(material.document_kind)
    if kind is None:
        status = ReadingStatus.NONE
    else:
        status = ReadingStatus.PENDING if enabled() else ReadingStatus.OFF
    check = PhotoCheck(upload=upload, hall_id=material.application.hall_id,
                       kind=kind.code if kind else None, status=status, **(phone or {}))
    db.session.add(check)
    return check


# ---- reading, in the worker ----

def chain(upload_id: int, check_status: str | None) -> int | None:
    """Queue the reading of a just-compressed photo in the compression's transaction; the job id
    to hand to the reading thread after the commit (embedded default in a request), else None.
    `check_status`: its PhotoCheck's status, read with the photo (None: it has none)."""
    if check_status != ReadingStatus.PENDING:
        return None
    if current_app.config.get("REDIS_URL") or not has_request_context():
        jobs.enqueue(READ_JOB, upload_id)
        return None
    return jobs.enqueue(READ_JOB, upload_id, run_at=utcnow() + THREAD_GRACE).id


def start(job_id: int | None) -> None:
    """After the commit: the reading thread runs the queued job, the response does not wait."""
    if job_id is not None:
        background.submit(current_app._get_current_object(), job_id)


def read_photo(upload_id: int) -> str:
    """Read one photo and keep its fields and issues; safe to run twice."""
    check = db.session.scalar(select(PhotoCheck).where(PhotoCheck.upload_id == upload_id))
    if check is None or check.status != ReadingStatus.PENDING:
        return "skipped"
    upload, kind = check.upload, kinds.get(check.kind)
    if not enabled() or kind is None:
        return _finish(check.id, status=ReadingStatus.OFF)
    if upload.status != "ready" or upload.removed_at is not None or not upload.image_key:
        return _finish(check.id, status=ReadingStatus.PURGED)

    data = get_storage().open(upload.image_key)
    check_id = check.id
    db.session.commit()  # no transaction held open during the second of OCR
    started = perf_counter()
    try:
        result, issues = read_bytes(data, kind.code, current_app.config["OCR_THREADS"])
    except Exception:  # noqa: BLE001 - a photo the engine cannot take: no hint, clerk decides
        log.exception("reading photo #%s failed", upload_id)  # the id only, never its text
        return _finish(check_id, status=ReadingStatus.FAILED)
    return _finish(check_id, status=ReadingStatus.DONE, found_kind=result.kind, issues=issues,
                   fields=result.fields if result.kind == kind.code else None,
                   seconds=round(perf_counter() - started, 3), read_at=utcnow())


def read_bytes(data: bytes, expected: str, threads: int = 2) -> tuple[extract.Reading, list]:
    """The worker's reading of one compressed photo: kind, fields and issue codes (bench/ocr.py
    runs exactly this).

    A field whose label shows but whose value could not be read is looked for again in the
    whole 1600 px copy, and a number still missing once more with the contrast stretched and
    edges sharpened; only numbers are taken from that last look, since their check character
    vouches for them, while sharpening can turn a blurred character into another."""
    result = extract.read(engine.read_lines(data, threads), expected=expected)
    for sharpen in (False, True):
        if result.kind != expected or not result.unclear:
            break
        closer = extract.read(engine.read_lines(data, threads, engine.CLOSE_EDGE, sharpen),
                              expected=expected)
        if closer.kind == expected:
            _take(result, closer, numbers_only=sharpen)
    return result, issues_of(result, expected)


def _take(result: extract.Reading, closer: extract.Reading, numbers_only: bool) -> None:
    """The fields a closer look read that the first one could not."""
    kind = kinds.get(result.kind)
    for key in list(result.unclear):
        spec = kind.field(key)
        if key not in closer.fields or numbers_only and not spec.identifies:
            continue
        result.fields[key] = closer.fields[key]
        result.unclear.remove(key)
        if key in closer.uncertain:
            result.uncertain.append(key)


def _finish(check_id: int, **values) -> str:
    done = db.session.execute(update(PhotoCheck).where(
        PhotoCheck.id == check_id, PhotoCheck.status == ReadingStatus.PENDING).values(**values))
    db.session.commit()
    return values["status"] if done.rowcount == 1 else "skipped"


def issues_of(result: extract.Reading, expected: str) -> list[str]:
    """The photo's own problems as codes (findings.issue_findings says them in Chinese)."""
    if result.chars < extract.MIN_CHARS:
        return [findings.UNREADABLE]
    if result.kind is None and result.scores.get(expected):
        return [findings.UNREADABLE]  # some of its words, too few to tell: blurred, not wrong
    if result.kind != expected:
        return [findings.WRONG_KIND]
    return ([f"{findings.UNCLEAR}:{key}" for key in result.unclear]
            + [f"{findings.UNCERTAIN}:{key}" for key in result.uncertain])


def forget(upload) -> None:
    """The photo is gone (taken back, or past retention): so is everything read from it."""
    check = upload.check
    if check is not None and check.status != ReadingStatus.NONE:
        check.fields, check.issues, check.found_kind = None, None, None
        check.status = ReadingStatus.PURGED


# ---- findings, hints and the offer to fill ----

def typed_values(row) -> dict:
    """What the applicant typed, by compare target (kinds.yaml): empty strings included."""
    typed = {"applicant_name": row.applicant_name or "", "id_number": row.id_number or ""}
    saved = answer_values(row)
    fields = item_fields(row) if row.status == "draft" else row.answers or []
    for f in fields:
        value = saved.get(f["key"], "")
        typed.setdefault(f"answer:{f['key']}", value)
        typed.setdefault(f"answer:{f['label']}", value)
    return typed


def _read_photos(material) -> dict[int, tuple[list, dict]]:
    return {u.id: (u.check.issues or [], u.check.fields or {}) for u in material.current
            if u.check is not None and u.check.status == ReadingStatus.DONE}


def material_findings(material, row) -> dict[int, list[findings.Finding]]:
    """Findings per photo of one material, against what is typed now."""
    kind = kinds.get(material.document_kind)
    if kind is None:
        return {}
    return findings.evaluate(kind, _read_photos(material), typed_values(row))


def photo_findings(upload, row) -> list[findings.Finding]:
    return material_findings(upload.material, row).get(upload.id, [])


def photo_hint(upload, row) -> tuple[str, str | None] | None:
    """The verdict the photo suggests to the clerk, or None when it was not read."""
    check = upload.check
    if check is None or check.status != ReadingStatus.DONE:
        return None
    return findings.suggestion(photo_findings(upload, row))


def material_offers(material, row) -> list[findings.Offer]:
    kind = kinds.get(material.document_kind)
    if kind is None or row.status != "draft":
        return []
    return findings.offers(kind, _read_photos(material), typed_values(row))


def offers(row) -> list[findings.Offer]:
    """Every value the application's photos hold for a field the applicant left empty."""
    found: dict[str, findings.Offer] = {}
    for material in row.materials:
        for offer in material_offers(material, row):
            found.setdefault(offer.target, offer)
    return list(found.values())


@dataclass
class PageReadings:
    """What a page's photos show from their reading, worked out by the route before rendering
    (the templates only look things up here)."""

    found: dict[int, list[findings.Finding]] = field(default_factory=dict)  # by read photo's id
    hints: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # by read photo's id
    gave_up: set[int] = field(default_factory=set)  # photos whose card stops asking
    offers: dict[int, list[findings.Offer]] = field(default_factory=dict)  # by material id


def page_readings(row, materials, history: bool = False) -> PageReadings:
    """Findings, hints and offers for the photos of these materials (and their older photos on
    the clerk's page): each material compared once, whatever number of its photos are shown."""
    shown = PageReadings()
    for material in materials:
        photos = material.current + (material.history if history else [])
        read = [u for u in photos if u.check is not None and u.check.status == ReadingStatus.DONE]
        shown.gave_up.update(u.id for u in photos if give_up(u.check, u))
        per_photo = material_findings(material, row) if read else {}
        for upload in read:
            shown.found[upload.id] = per_photo.get(upload.id, [])
            shown.hints[upload.id] = findings.suggestion(shown.found[upload.id])
        if material.current:
            shown.offers[material.id] = material_offers(material, row)
    return shown


def fill(row, material=None) -> list[findings.Offer]:
    """Fill the empty fields from the photos (one material's, or all), on the applicant's tap."""
    if row.status != "draft":
        raise AppError("已提交的办件不能再从照片填入", 409)
    chosen = material_offers(material, row) if material is not None else offers(row)
    answers = {a["key"]: a for a in row.answers or []}
    fields = item_fields(row)
    for offer in chosen:
        if offer.target == "applicant_name":
            row.applicant_name = offer.value
        elif offer.target == "id_number":
            row.id_number = offer.value
        else:
            _fill_answer(row, fields, answers, offer)
    db.session.commit()
    return chosen


def _fill_answer(row, fields: list[dict], answers: dict, offer: findings.Offer) -> None:
    name = offer.target.removeprefix("answer:")
    spec = next((f for f in fields if name in (f["key"], f["label"])), None)
    if spec is None:
        return
    values = {f["key"]: (answers.get(f["key"]) or {}).get("value", "") for f in fields}
    values[spec["key"]] = offer.value
    row.answers = form_fields.snapshot(fields, values)


def record_verdicts(row, now: datetime) -> None:
    """At the clerk's decision: the hint each read photo showed, beside the verdict given."""
    for material in row.materials:
        if not material.verdict:
            continue
        for upload in material.current:
            hint = photo_hint(upload, row)
            if hint is not None:
                check = upload.check
                check.hint, check.verdict, check.decided_at = hint[0], material.verdict, now


# ---- the figures page ----

def agreement(hall_id: int | None, start: datetime, end: datetime) -> dict:
    """How often the hint and the clerk's verdict agreed, over decisions in [start, end)."""
    agreed = PhotoCheck.hint == PhotoCheck.verdict
    query = select(
        func.count(PhotoCheck.id).label("hinted"),
        func.count().filter(agreed).label("agreed"),
        func.count().filter(PhotoCheck.hint == "fix").label("hinted_fix"),
        func.count().filter(PhotoCheck.hint == "fix", agreed).label("agreed_fix"),
        func.count().filter(PhotoCheck.hint == "ok").label("hinted_ok"),
        func.count().filter(PhotoCheck.hint == "ok", agreed).label("agreed_ok"),
    ).where(PhotoCheck.hint.is_not(None), PhotoCheck.decided_at >= start,
            PhotoCheck.decided_at < end)
    if hall_id is not None:
        query = query.where(PhotoCheck.hall_id == hall_id)
    counts = {k: int(v or 0) for k, v in db.session.execute(query).one()._mapping.items()}
    counts["rate"] = round(100.0 * counts["agreed"] / counts["hinted"], 1) if counts[
        "hinted"] else None
    return counts


def agreement_for_days(hall_id: int | None, first: date, last: date) -> dict:
    """The agreement over decisions made on local days first to last, both included."""
    return agreement(hall_id, local_day_bounds(first)[0], local_day_bounds(last)[1])


def give_up(check: PhotoCheck | None, upload) -> bool:
    """Whether the card should stop asking: the reading is far behind (the worker is busy)."""
    return bool(check is not None and check.status == ReadingStatus.PENDING and upload.created_at
                and utcnow() - upload.created_at > GIVE_UP_AFTER)
