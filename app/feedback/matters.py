"""How the progress pages (进度查询) read 办不成事 reports and 我要问 questions."""

from sqlalchemy import select

from app.core.ids import parse_id
from app.extensions import db
from app.feedback.models import Question, UnresolvedReport
from app.feedback.states import (
    QUESTION_ENTITY,
    QUESTION_LABELS,
    REPORT_ENTITY,
    REPORT_LABELS,
    QuestionStatus,
    ReportStatus,
)
from app.progress.registry import MatterSummary, register_matter_kind

REPORT_NEXT = {
    ReportStatus.RECEIVED: "大厅会在当天工作日内答复您,结果短信通知。",
    ReportStatus.REPLIED: "大厅正在处理,5 个工作日内办结,结果短信通知。",
    ReportStatus.RESOLVED: "",
}


def report_summary(row: UnresolvedReport):
    label, tone = REPORT_LABELS[ReportStatus(row.status)]
    return MatterSummary(
        kind=REPORT_ENTITY, id=row.id, number=row.number, title=f"办不成事:{row.item.name}",
        status_label=label, status_tone=tone, citizen_id=row.citizen_id,
        phone=row.citizen.phone or "", created_at=row.created_at,
        next_step=REPORT_NEXT[ReportStatus(row.status)], contact_phone=row.hall.phone,
        hall_id=row.hall_id, hall_name=row.hall.name, detail_url=f"/feedback/reports/{row.id}")


def question_summary(row: Question):
    label, tone = QUESTION_LABELS[QuestionStatus(row.status)]
    return MatterSummary(
        kind=QUESTION_ENTITY, id=row.id, number=row.number, title=f"我要问:{row.item.name}",
        status_label=label, status_tone=tone, citizen_id=row.citizen_id,
        phone=row.citizen.phone or "", created_at=row.created_at,
        next_step="" if row.answer else f"{row.department}答复后会短信通知您。",
        contact_phone=row.item.phone, detail_url=f"/feedback/questions/{row.id}")


def _get_report(report_id: int):
    row = db.session.get(UnresolvedReport, report_id)
    return report_summary(row) if row else None


def _list_reports(user_id: int):
    rows = db.session.scalars(select(UnresolvedReport).where(
        UnresolvedReport.citizen_id == user_id).order_by(UnresolvedReport.created_at.desc()))
    return [report_summary(row) for row in rows]


def _find_report(number: str):
    if not (number.startswith("BC") and number[2:].isdecimal() and len(number) > 10):
        return None
    row = db.session.get(UnresolvedReport, parse_id(number[10:]) or 0)
    return report_summary(row) if row and row.number == number else None


def _get_question(question_id: int):
    row = db.session.get(Question, question_id)
    return question_summary(row) if row else None


def _list_questions(user_id: int):
    rows = db.session.scalars(select(Question).where(
        Question.citizen_id == user_id).order_by(Question.created_at.desc()))
    return [question_summary(row) for row in rows]


def _find_question(number: str):
    if not (number.startswith("WT") and number[2:].isdecimal() and len(number) > 10):
        return None
    row = db.session.get(Question, parse_id(number[10:]) or 0)
    return question_summary(row) if row and row.number == number else None


def register() -> None:
    """Tell the progress feature about reports and questions."""
    register_matter_kind(kind=REPORT_ENTITY, label="办不成事", list_for_user=_list_reports,
                         get=_get_report, find_by_number=_find_report)
    register_matter_kind(kind=QUESTION_ENTITY, label="我要问", list_for_user=_list_questions,
                         get=_get_question, find_by_number=_find_question)
