"""An application as the applicant keeps it: which questions it asks, what is saved, and
whether (and which of) its materials may still change. Shared by the features that add to an
application (photos here, licences in place of photos, values read from the photos).
"""

from flask import current_app

from app.applications.models import Application, AppMaterial
from app.applications.states import LABELS, VERDICT_FIX, VERDICT_MISSING, Status
from app.catalog import fields as form_fields
from app.catalog.services import bundle_items
from app.core.refusals import Refusal


class AppError(Refusal):
    """A refused action on an application (a Refusal); 返回 leads to 我的办件."""

    default_status = 409
    titles = {410: "暂不能办理"}
    heading = "拍照预审"
    rule = "applications"
    back_endpoint = "applications.mine"


def item_fields(row: Application) -> list[dict]:
    """The questions this application asks now: its item's, or the union of its bundle's."""
    items = [row.item] if row.item_id else bundle_items(row.bundle)
    return form_fields.merge(items)


def answer_values(row: Application) -> dict:
    """The saved answers by key, to fill the form again."""
    return {a["key"]: a["value"] for a in row.answers or []}


def check_editable(row: Application, material: AppMaterial | None = None) -> None:
    """Drafts and 补正 take photos; after 容缺受理, only the missing materials do (补交)."""
    if row.editable or (row.status == Status.ACCEPTED_WITH_MISSING and material is not None
                        and material.verdict == VERDICT_MISSING):
        return
    if row.status == Status.ACCEPTED_WITH_MISSING and material is not None:
        raise AppError("这项材料已受理,无需补交", 409)
    if not row.editable:
        raise AppError(f"办件{row.number}当前“{LABELS[Status(row.status)][0]}”,不能修改", 409)


def material_of(row: Application, material_id: int) -> AppMaterial:
    material = next((m for m in row.materials if m.id == material_id), None)
    if material is None:
        raise AppError("没有找到这项材料", 404)
    if row.status == Status.SUPPLEMENT_REQUESTED and material.verdict != VERDICT_FIX:
        raise AppError("这项材料已审核合格,无需补正", 409)
    return material


def cfg(name: str):
    return current_app.config[name]
