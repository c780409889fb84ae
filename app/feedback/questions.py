"""我要问 questions: asking about an item, the department's answer, and publishing it anonymised
as a 常见问题 under the guide. Routes call one function here; these own the transaction."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.catalog.cache import BUMP
from app.core.access import scope
from app.core.links import make_link
from app.core.models import audit
from app.core.privacy import redact_text
from app.core.refusals import rolls_back
from app.core.states import Step, machine, move
from app.core.timeutil import utcnow
from app.extensions import db
from app.feedback.models import Question
from app.feedback.rules import FeedbackError, check_text, citizens_row, find_item
from app.feedback.states import (
    QUESTION_ALLOWED,
    QUESTION_ENTITY,
    QUESTION_QUIET,
    QUESTION_SMS,
    QuestionStatus,
)
from app.progress.notify import push_along
from app.sms.services import queue_sms


def _tell_citizen(step: Step, template: str) -> None:
    question = step.record
    if question.citizen.phone:
        message = queue_sms(question.citizen.phone, template,
                            {"link": make_link("progress", QUESTION_ENTITY, question.id)},
                            key=f"feedback-question-{question.id}-answered")
        push_along(message, question.citizen_id)


QUESTIONS = machine(
    Question, entity=QUESTION_ENTITY, allowed=QUESTION_ALLOWED, sms=QUESTION_SMS,
    quiet=QUESTION_QUIET, notify=_tell_citizen,
    refused=lambda question, current, to: FeedbackError(
        "这个提问已经处理过了,请刷新页面查看最新状态。", 409))


@rolls_back
def ask(citizen: User, item_code: str, text: str) -> Question:
    """Record a question for the item's department."""
    item = find_item(item_code)
    if item.retired_at is not None:
        raise FeedbackError("该事项已停止办理,不能再提问。如有疑问请拨打咨询电话。", 410)
    text = check_text(text, "text", "问题")
    question = Question(citizen_id=citizen.id, item_id=item.id, department=item.department,
                        text=text)
    db.session.add(question)
    db.session.flush()
    audit(QUESTION_ENTITY, question.id, QuestionStatus.OPEN, actor_id=citizen.id,
          public_note=f"已收到您的提问,将由{item.department}答复,答复后短信通知您。")
    db.session.commit()
    return question


def question_for_citizen(question_id: int, user) -> Question:
    """The question if it is this person's; anyone else is told it does not exist."""
    return citizens_row(Question, QUESTION_ENTITY, question_id, user,
                     "没有找到这个提问。只能查看本人提出的问题,请确认登录的手机号。")


def question_for_staff(question_id: int, user: User, lock: bool = False) -> Question:
    """The question if this person answers for its department (Scope.DEPARTMENT)."""
    question = db.session.get(Question, question_id, with_for_update=lock)
    if question is None:
        raise FeedbackError("没有找到这个提问。", 404)
    scope(user).department(question.department)
    return question


def questions_for_staff(user: User, show: str = "open") -> list[Question]:
    mine = scope(user).departments
    if not mine:
        return []
    query = select(Question).options(selectinload(Question.citizen)).where(
        Question.department.in_(mine))
    if show == "open":
        query = query.where(Question.status == QuestionStatus.OPEN).order_by(Question.created_at)
    else:
        query = query.where(Question.status == QuestionStatus.ANSWERED).order_by(
            Question.answered_at.desc())
    return list(db.session.scalars(query.limit(200)))


@rolls_back
def answer(question_id: int, actor: User, text: str) -> Question:
    """Answer a question (or correct the answer) and tell the citizen by SMS the first time."""
    question = question_for_staff(question_id, actor, lock=True)
    text = check_text(text, "answer", "答复内容")
    first = question.status == QuestionStatus.OPEN
    move(question, QuestionStatus.ANSWERED, actor.id, text,
         f"{question.department}答复:{text}" if first else "答复内容已更新。",
         answer=text, answered_at=utcnow(), answered_by_id=actor.id)
    db.session.commit()
    return question


def faq_draft(question: Question) -> tuple[str, str]:
    """The anonymised texts offered for publishing: no names, phones or ID numbers."""
    names = [*question.private_names, question.answered_by.name if question.answered_by
             else ""]
    return (question.faq_question or redact_text(question.text, names, public=True),
            question.faq_answer or redact_text(question.answer or "", names, public=True))


@rolls_back
def publish(question_id: int, actor: User, faq_question: str, faq_answer: str) -> Question:
    """Show the answered question under the guide, anonymised again whatever was typed."""
    question = question_for_staff(question_id, actor, lock=True)
    if question.status != QuestionStatus.ANSWERED:
        raise FeedbackError("请先答复这个问题,再公开为常见问题。", 409)
    names = [*question.private_names, actor.name or ""]
    q_text = redact_text(check_text(faq_question, "faq_question", "公开的问题"), names,
                         public=True)
    a_text = redact_text(check_text(faq_answer, "faq_answer", "公开的答复"), names,
                         public=True)
    question.faq_question, question.faq_answer = q_text, a_text
    question.published_at, question.published_by_id = utcnow(), actor.id
    audit(QUESTION_ENTITY, question.id, "published", actor_id=actor.id, note=q_text)
    _guide_changed()
    db.session.commit()
    return question


@rolls_back
def unpublish(question_id: int, actor: User) -> Question:
    question = question_for_staff(question_id, actor, lock=True)
    if question.published_at is not None:
        question.published_at = None
        audit(QUESTION_ENTITY, question.id, "unpublished", actor_id=actor.id)
        _guide_changed()
    db.session.commit()
    return question


def _guide_changed() -> None:
    """The FAQ is part of the cached guide body: move the catalog revision with this commit."""
    db.session.execute(BUMP)
    db.session.info["catalog_changed"] = True


def faqs_for(item_id: int) -> list[Question]:
    """The published questions of an item, newest first."""
    return list(db.session.scalars(select(Question).options(selectinload(Question.citizen)).where(
        Question.item_id == item_id, Question.published_at.is_not(None))
        .order_by(Question.published_at.desc()).limit(20)))
