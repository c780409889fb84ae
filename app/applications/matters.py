"""How the progress pages (进度查询) read applications: the "application" matter kind."""

from functools import cache

from flask import url_for
from sqlalchemy import bindparam, select

from app.applications.models import Application
from app.applications.states import LABELS, Status
from app.auth.models import User
from app.catalog.models import Hall
from app.extensions import db
from app.progress.registry import MatterSummary, register_matter_kind

NEXT_STEPS = {
    Status.DRAFT: "草稿尚未提交,请继续上传材料并提交预审。",
    Status.SUBMITTED: "等待窗口工作人员审核,结果会短信通知您。",
    Status.REVIEWING: "窗口工作人员正在审核您的材料。",
    Status.SUPPLEMENT_REQUESTED: "请按页面所列一次补齐需补正的材料,再重新提交。",
    Status.ACCEPTED_WITH_MISSING: "请确认容缺承诺,并在期限内补齐所缺材料。",
    Status.ACCEPTED: "请携带全部材料原件到大厅办理。",
    Status.PROCESSING: "正在办理,办结后短信通知您。",
}


@cache
def _select(by: str):
    """An application with its citizen's phone and its hall, in one row, by "id", "number" or
    "citizen" (the bound parameter `key`): the timeline and 我的办件 read these few columns on every
    view, so no ORM objects, no lazy loads, and the statement is built once."""
    key = bindparam("key")
    where = {"id": Application.id == key, "number": Application.number == key,
             "citizen": Application.citizen_id == key}[by]
    query = (select(Application.id, Application.number, Application.title, Application.status,
                   Application.citizen_id, Application.hall_id, Application.created_at,
                   Application.missing_due,
                   User.phone.label("citizen_phone"), Hall.name.label("hall_name"),
                   Hall.phone.label("hall_phone"))
            .join(User, User.id == Application.citizen_id)
            .join(Hall, Hall.id == Application.hall_id)
            .where(Application.status != Status.DRAFT, where))
    return query.order_by(Application.created_at.desc()) if by == "citizen" else query


def summary(row):
    """One application as the progress pages show it (a row of _select())."""
    label, tone = LABELS[Status(row.status)]
    try:
        detail = url_for("applications.view", app_id=row.id)
    except RuntimeError:  # outside a request (a job): the progress page builds its own link
        detail = None
    return MatterSummary(
        kind="application", id=row.id, number=row.number or "", title=row.title,
        status_label=label, status_tone=tone, citizen_id=row.citizen_id,
        phone=row.citizen_phone or "", created_at=row.created_at,
        next_step=NEXT_STEPS.get(Status(row.status), ""), contact_phone=row.hall_phone,
        hall_id=row.hall_id, hall_name=row.hall_name, completed=row.status == Status.COMPLETED,
        detail_url=detail,
        due=row.missing_due if row.status == Status.ACCEPTED_WITH_MISSING else None)


def _get(app_id: int):
    row = db.session.execute(_select("id"), {"key": app_id}).first()
    return summary(row) if row else None


def _list_for_user(user_id: int):
    rows = db.session.execute(_select("citizen"), {"key": user_id}).all()
    return [summary(row) for row in rows]


def _find_by_number(number: str):
    row = db.session.execute(_select("number"), {"key": number}).first()
    return summary(row) if row else None


def register() -> None:
    """Tell the progress feature about applications."""
    register_matter_kind(kind="application", label="办件", list_for_user=_list_for_user,
                         get=_get, find_by_number=_find_by_number)
