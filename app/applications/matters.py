"""How the progress pages (进度查询) read applications: the "application" matter kind."""

from flask import url_for
from sqlalchemy import select

from app.applications.models import Application
from app.applications.states import LABELS, Status
from app.extensions import db

NEXT_STEPS = {
    Status.DRAFT: "草稿尚未提交,请继续上传材料并提交预审。",
    Status.SUBMITTED: "等待窗口工作人员审核,结果会短信通知您。",
    Status.REVIEWING: "窗口工作人员正在审核您的材料。",
    Status.SUPPLEMENT_REQUESTED: "请按页面所列一次补齐需补正的材料,再重新提交。",
    Status.ACCEPTED_WITH_MISSING: "请确认容缺承诺,并在期限内补齐所缺材料。",
    Status.ACCEPTED: "请携带全部材料原件到大厅办理。",
    Status.PROCESSING: "正在办理,办结后短信通知您。",
}


def summary(row: Application):
    """One application as the progress pages show it."""
    from app.progress.registry import MatterSummary

    label, tone = LABELS[Status(row.status)]
    try:
        detail = url_for("applications.view", app_id=row.id)
    except RuntimeError:  # outside a request (a job): the progress page builds its own link
        detail = None
    return MatterSummary(
        kind="application", id=row.id, number=row.number or "", title=row.title,
        status_label=label, status_tone=tone, citizen_id=row.citizen_id,
        phone=row.citizen.phone or "", created_at=row.created_at,
        next_step=NEXT_STEPS.get(Status(row.status), ""), contact_phone=row.hall.phone,
        hall_id=row.hall_id, hall_name=row.hall.name, completed=row.status == Status.COMPLETED,
        detail_url=detail)


def _get(app_id: int):
    row = db.session.get(Application, app_id)
    return summary(row) if row and row.status != Status.DRAFT else None


def _list_for_user(user_id: int):
    rows = db.session.scalars(select(Application).where(
        Application.citizen_id == user_id, Application.status != Status.DRAFT
    ).order_by(Application.created_at.desc())).all()
    return [summary(row) for row in rows]


def _find_by_number(number: str):
    row = db.session.scalar(select(Application).where(Application.number == number))
    return summary(row) if row and row.status != Status.DRAFT else None


def register() -> None:
    """Tell the progress feature about applications, when it is installed."""
    try:
        from app.progress.registry import register_matter_kind
    except ImportError:
        return
    register_matter_kind(kind="application", label="办件", list_for_user=_list_for_user,
                         get=_get, find_by_number=_find_by_number)
