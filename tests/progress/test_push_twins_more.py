"""Push is sent for the other citizen SMS too (issue 22, point 3): a 帮办 step, a reply to an
办不成事 report, a 我要问 answer and a reply to a 差评 each have one Web Push twin for a citizen
subscribed in the app, sent through the outbox; the contact phone of a 帮办 request is only a
phone, so its SMS has none; nobody subscribed, no push job."""

import pytest
from conftest import shanghai
from feedback.conftest import World as FeedbackWorld
from help.conftest import PASSWORDS
from help.conftest import World as HelpWorld
from ratings.conftest import World as RatingsWorld
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.feedback.models import Question, UnresolvedReport
from app.progress.models import PushSubscription
from app.ratings.models import Rectification
from app.sms.models import SmsMessage
from factories import sign_in

WEDNESDAY_MORNING = shanghai("2026-12-02 10:00")  # outside quiet hours, a working day


def _subscribe(push, user_id: int, browser: str = "phone") -> None:
    data = push.subscription(browser)
    db.session.add(PushSubscription(user_id=user_id, endpoint=data["endpoint"], **data["keys"]))
    db.session.commit()


def _sms(template: str) -> list[SmsMessage]:
    return list(db.session.scalars(select(SmsMessage).where(SmsMessage.template == template)
                                   .order_by(SmsMessage.id)))


def _push_jobs() -> list[jobs.OutboxJob]:
    return list(db.session.scalars(select(jobs.OutboxJob).where(
        jobs.OutboxJob.name == "progress.push").order_by(jobs.OutboxJob.id)))


def _twinned(push, messages: list[SmsMessage], bodies: list[str], browser: str = "phone"):
    """Each SMS had exactly one push job, and the browser got each one's words and link."""
    assert push.refused == []
    assert [job.args[0] for job in _push_jobs()] == [m.id for m in messages]
    assert [name for name, _ in push.received] == [browser] * len(messages)
    assert [data["body"] for _, data in push.received] == bodies
    assert [data["url"] for _, data in push.received] == [m.params["link"] for m in messages]
    for message, body in zip(messages, bodies, strict=True):  # the SMS's words, unsigned, unlinked
        assert message.text.startswith(f"【掌上办】{body.split()[0]}")
        assert all(words in message.text for words in body.split())
        assert "掌上办】" not in body and "/t/" not in body


@pytest.mark.time_machine(WEDNESDAY_MORNING, tick=True)
def test_a_help_step_sms_has_a_push_twin_for_the_account_holder_not_the_contact_phone(
        app, client, auth, push, run_jobs):
    world = HelpWorld(app, client, auth)
    _subscribe(push, world.citizen.id)
    # 李四's phone is given as the contact phone; he has the app too, but the request is not his
    _subscribe(push, world.other.id, browser="contact")
    auth.login_citizen("13800138000")
    row = world.ask(contact_phone=world.other.phone)
    staff = world.as_staff(world.clerk, PASSWORDS["clerk1"])
    assert staff.post(f"/staff/help/{row.id}/assign").status_code == 303
    for action, text in (("review", "需迁入地房产证明"),
                         ("feedback", "明天上午9点上门,请备好户口簿和身份证")):
        assert staff.post(f"/staff/help/{row.id}/{action}",
                          data={"text": text}).status_code == 303
    run_jobs()
    to_holder, to_contact = _sms("help_feedback")
    assert (to_holder.phone, to_contact.phone) == ("13800138000", "13900139000")
    _twinned(push, [to_holder], ["帮办员已反馈办理安排,请查看"])
    assert all(job.args[0] != to_contact.id for job in _push_jobs())


@pytest.mark.time_machine(WEDNESDAY_MORNING, tick=True)
def test_each_reply_to_an_unresolved_report_has_a_push_twin(app, push, run_jobs):
    world = FeedbackWorld(app)
    _subscribe(push, world.citizen.id)
    me = world.client_for(world.citizen)
    assert me.post("/feedback/report", data={
        "item": world.item.code, "hall": str(world.hall.id),
        "description": "窗口说系统维护,让我改天再来,已经跑了两次。"}).status_code == 303
    report = db.session.scalar(select(UnresolvedReport))
    admin = world.client_for(world.admin)
    assert admin.post(f"/feedback/staff/reports/{report.id}/reply", data={
        "reply": "已联系不动产窗口,明天上午可直接到 B01 窗口办理。"}).status_code == 303
    assert admin.post(f"/feedback/staff/reports/{report.id}/resolve", data={
        "resolution": "已于今天在 B01 窗口办结,证件已领取。"}).status_code == 303
    run_jobs()
    [replied], [resolved] = _sms("feedback_report_replied"), _sms("feedback_report_resolved")
    assert replied.phone == resolved.phone == "13800138000"
    _twinned(push, [replied, resolved],
             ["您反映的办不成事已有答复,请查看", "您反映的办不成事已办结,结果请看"])
    assert [m.template for m in _sms("feedback_report_new")] == ["feedback_report_new"]  # staff's


@pytest.mark.time_machine(WEDNESDAY_MORNING, tick=True)
def test_the_answer_to_a_question_has_one_push_twin(app, push, run_jobs):
    world = FeedbackWorld(app)
    _subscribe(push, world.citizen.id)
    me = world.client_for(world.citizen)
    assert me.post(f"/feedback/ask/{world.item.code}", data={
        "text": "户口迁到外地后身份证要重新办吗?"}).status_code == 303
    question = db.session.scalar(select(Question))
    clerk = world.client_for(world.clerk)
    for answer in ("身份证号码不变,有效期内可继续使用。",
                   "身份证号码不变,有效期内可继续使用;也可申请换领。"):  # a correction: no SMS
        assert clerk.post(f"/feedback/staff/questions/{question.id}/answer",
                          data={"answer": answer}).status_code == 303
    run_jobs()
    [answered] = _sms("feedback_question_answered")
    assert answered.phone == "13800138000"
    _twinned(push, [answered], ["您在掌上办的提问已有答复,请查看"])


@pytest.mark.time_machine(WEDNESDAY_MORNING, tick=True)
def test_the_reply_to_a_bad_rating_has_a_push_twin(app, client, auth, push, run_jobs):
    world = RatingsWorld(app)
    _subscribe(push, world.citizen.id)
    phone = app.test_client()
    sign_in(phone, world.citizen)
    invite = world.invite()
    world.rate(phone, invite, 2, reason="slow", reason_text="等了很久")
    case = db.session.scalar(select(Rectification))
    auth.login_staff("admin1", "secret-pass-2")
    assert client.post(f"/ratings/cases/{case.id}/explain",
                       data={"reply": "依据规定须本人到场办理。"}).status_code == 303
    run_jobs()
    [reply] = _sms("rating_reply")
    assert reply.phone == "13800138000"
    _twinned(push, [reply], ["您的评价已有答复,请查看 感谢您的监督"])


@pytest.mark.time_machine(WEDNESDAY_MORNING, tick=True)
def test_without_a_subscription_the_sms_goes_alone(app, push, run_jobs):
    world = FeedbackWorld(app)
    _subscribe(push, world.stranger.id)  # someone else has the app; the asker does not
    me = world.client_for(world.citizen)
    me.post(f"/feedback/ask/{world.item.code}", data={"text": "户口迁到外地后身份证要重新办吗?"})
    question = db.session.scalar(select(Question))
    assert world.client_for(world.clerk).post(
        f"/feedback/staff/questions/{question.id}/answer",
        data={"answer": "身份证号码不变,有效期内可继续使用。"}).status_code == 303
    run_jobs()
    assert [m.phone for m in _sms("feedback_question_answered")] == ["13800138000"]
    assert _push_jobs() == [] and push.received == []
