"""How the progress pages (进度查询) read help requests: the "help_request" matter kind."""

from sqlalchemy import select

from app.extensions import db
from app.help.models import HelpRequest
from app.help.states import NEXT_STEPS, HelpStatus
from app.progress.registry import MatterSummary, register_matter_kind

KIND = "help_request"


def summary(row: HelpRequest):
    label, tone = row.label
    next_step = NEXT_STEPS.get(HelpStatus(row.status), "")
    if row.pending is not None:
        next_step = "帮办员已代您发起办理,请打开详情输入短信验证码确认。"
    return MatterSummary(
        kind=KIND, id=row.id, number=row.number or "", title=f"帮办代办 · {row.title}",
        status_label=label, status_tone=tone, citizen_id=row.citizen_id,
        phone=row.citizen.phone or "", created_at=row.created_at, next_step=next_step,
        contact_phone=row.hall.phone, hall_id=row.hall_id, hall_name=row.hall.name,
        completed=False, detail_url=f"/help/{row.id}")


def _get(request_id: int):
    row = db.session.get(HelpRequest, request_id)
    return summary(row) if row else None


def _list_for_user(user_id: int):
    rows = db.session.scalars(select(HelpRequest).where(HelpRequest.citizen_id == user_id)
                              .order_by(HelpRequest.created_at.desc())).all()
    return [summary(row) for row in rows]


def _find_by_number(number: str):
    row = db.session.scalar(select(HelpRequest).where(HelpRequest.number == number))
    return summary(row) if row else None


def register() -> None:
    """Tell the progress feature about help requests."""
    register_matter_kind(kind=KIND, label="帮办", list_for_user=_list_for_user, get=_get,
                         find_by_number=_find_by_number)
