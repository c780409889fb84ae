"""Demo: who answers for which department, a published FAQ, an open question, and two
办不成事 reports at the demo hall (one overdue, so the 工作台 shows its flag)."""

from datetime import timedelta

from sqlalchemy import select

from app.auth.models import StaffDepartment, User
from app.catalog.models import Hall, ServiceItem
from app.core.models import audit
from app.core.timeutil import utcnow
from app.extensions import db
from app.feedback.models import Question, UnresolvedReport
from app.feedback.rules import clocks
from app.feedback.states import QUESTION_ENTITY, REPORT_ENTITY, QuestionStatus

HALL = "乌兰浩特市政务服务中心"
CLERK_DEPARTMENTS = ("公安局户政管理部门", "人力资源和社会保障局")
FAR_CLERK_DEPARTMENT = "自然资源局不动产登记中心"
FAQ = ("户口迁到外地后,身份证需要重新办理吗?",
       "身份证号码不变,证件在有效期内可以继续使用。如需换领新地址的身份证,"
       "可携带户口簿到迁入地户籍窗口申请换领。")


def load_demo() -> None:
    """Add the rows once; a database that already has feedback rows is left alone."""
    if db.session.scalar(select(StaffDepartment.id).limit(1)):
        return
    clerk = db.session.scalar(select(User).where(User.username == "clerk"))
    hall = db.session.scalar(select(Hall).where(Hall.name == HALL))
    if clerk is None or hall is None:
        return
    for name in CLERK_DEPARTMENTS:
        db.session.add(StaffDepartment(user_id=clerk.id, department=name))
    far_clerk = db.session.scalar(select(User).where(User.username == "clerk2"))
    if far_clerk is not None:  # another hall's clerk answers for another department
        db.session.add(StaffDepartment(user_id=far_clerk.id, department=FAR_CLERK_DEPARTMENT))
    items = {i.code: i for i in db.session.scalars(select(ServiceItem))}
    asker = _citizen("13800138031", "赵敏")
    me = db.session.scalar(select(User).where(User.phone == "13800138000"))
    if "HJ-001" in items:
        _question(asker, items["HJ-001"],
                  "我叫赵敏,户口迁到外地以后身份证要重新办吗?电话13800138031", FAQ[1], clerk,
                  published=True)
    if "SB-001" in items and me is not None:
        _question(me, items["SB-001"], "社保卡丢了可以先在手机上挂失吗?", None, clerk)
    if "BDC-001" in items:
        now = utcnow()
        _report(asker, items["BDC-001"], hall, "上周二到不动产窗口办理,说系统维护让改天再来,"
                "已经跑了两次还没办成。", now - timedelta(days=8))
        _report(_citizen("13800138032", None), items["HJ-001"] if "HJ-001" in items
                else items["BDC-001"], hall, "材料都带齐了,窗口说还要社区证明,之前没告知。",
                now - timedelta(minutes=30))
    db.session.commit()


def _citizen(phone: str, name: str | None) -> User:
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(phone=phone, role="citizen", name=name)
        db.session.add(user)
        db.session.flush()
    return user


def _question(citizen, item, text, answer, clerk, published=False) -> None:
    q = Question(citizen_id=citizen.id, item_id=item.id, department=item.department, text=text,
                 created_at=utcnow() - timedelta(days=3))
    db.session.add(q)
    db.session.flush()
    audit(QUESTION_ENTITY, q.id, QuestionStatus.OPEN, actor_id=citizen.id,
          public_note=f"已收到您的提问,将由{item.department}答复,答复后短信通知您。")
    if answer:
        q.status, q.answer = QuestionStatus.ANSWERED, answer
        q.answered_at, q.answered_by_id = utcnow() - timedelta(days=2), clerk.id
        audit(QUESTION_ENTITY, q.id, QuestionStatus.ANSWERED, actor_id=clerk.id,
              public_note=f"{item.department}答复:{answer}")
    if published:
        q.faq_question, q.faq_answer = FAQ
        q.published_at, q.published_by_id = utcnow() - timedelta(days=2), clerk.id


def _report(citizen, item, hall, text, at) -> None:
    reply_due, resolve_due = clocks(at, hall.id)
    report = UnresolvedReport(citizen_id=citizen.id, item_id=item.id, hall_id=hall.id,
                              description=text, reply_due_at=reply_due,
                              resolve_due_at=resolve_due, created_at=at)
    db.session.add(report)
    db.session.flush()
    audit(REPORT_ENTITY, report.id, "received", actor_id=citizen.id,
          public_note="已收到您的办不成事反映。").created_at = at
