"""我要问: asking from the guide, the department's clerk answering, the SMS, and the FAQ."""

import pytest
from html_kit import errors, field_value, has, page_text, targets
from sqlalchemy import select

from app.extensions import db
from app.feedback.models import Question


def _ask(client, world, text="我叫张三,户口迁到外地后身份证要重新办吗?我的电话13800138000。",
         item=None):
    return client.post(f"/feedback/ask/{(item or world.item).code}", data={"text": text})


def test_the_guide_offers_asking_and_reporting(world, client):
    page = client.get(f"/services/{world.item.code}")
    assert f"/feedback/ask/{world.item.code}" in targets(page)
    assert f"/feedback/report?item={world.item.code}" in targets(page)
    assert "还没有公开的问答" in page_text(page)


def test_a_question_is_answered_by_its_department_and_the_citizen_told_by_sms(world, me):
    assert me.get(f"/feedback/ask/{world.item.code}").status_code == 200
    response = _ask(me, world)
    assert response.status_code == 303
    question = db.session.scalar(select(Question))
    assert question.department == "公安局户政管理部门" and question.status == "open"
    assert response.location.endswith(f"/feedback/questions/{question.id}")

    clerk = world.client_for(world.clerk)
    listing = clerk.get("/feedback/staff/questions").get_data(as_text=True)
    assert "户口迁移" in listing and f"question-{question.id}" in listing
    # the other department's clerk does not see it in their list
    other = world.client_for(world.other_clerk).get("/feedback/staff/questions")
    assert f"question-{question.id}" not in other.get_data(as_text=True)

    response = clerk.post(f"/feedback/staff/questions/{question.id}/answer",
                          data={"answer": "身份证号码不变,有效期内可继续使用。"})
    assert response.status_code == 303
    db.session.refresh(question)
    assert question.status == "answered" and question.answered_by_id == world.clerk.id
    [sms] = world.sms("feedback_question_answered", world.citizen.phone)
    assert "/t/" in sms.text and len(sms.text) <= 70
    view = me.get(f"/feedback/questions/{question.id}").get_data(as_text=True)
    assert "身份证号码不变" in view
    timeline = me.get(f"/progress/question/{question.id}").get_data(as_text=True)
    assert "公安局户政管理部门答复:身份证号码不变" in timeline

    # correcting the answer does not send a second SMS
    clerk.post(f"/feedback/staff/questions/{question.id}/answer",
               data={"answer": "身份证号码不变,有效期内可继续使用;也可申请换领。"})
    assert len(world.sms("feedback_question_answered")) == 1


def test_an_answered_question_is_published_anonymised_and_shows_under_the_guide(world, me, client):
    _ask(me, world)
    question = db.session.scalar(select(Question))
    clerk = world.client_for(world.clerk)
    clerk.post(f"/feedback/staff/questions/{question.id}/answer",
               data={"answer": "张三您好,号码不变。有事可打王丽电话 0482-8260001。"})
    guide = f"/services/{world.item.code}"
    assert "还没有公开的问答" in client.get(guide).get_data(as_text=True)  # now cached

    draft = clerk.get(f"/feedback/staff/questions/{question.id}").get_data(as_text=True)
    assert "13800138000" not in draft and "张三" not in draft.split('id="form-publish"')[1]

    # whatever the clerk leaves in, publishing strips it again
    response = clerk.post(f"/feedback/staff/questions/{question.id}/publish", data={
        "faq_question": "我叫张三,身份证110101199003071234 迁户口后要换证吗?电话13800138000",
        "faq_answer": "张三您好,号码不变。有事可打王丽电话 0482-8260001。"})
    assert response.status_code == 303
    db.session.refresh(question)
    assert question.published_at is not None
    for secret in ("张三", "王丽", "110101199003071234", "13800138000", "0482-8260001"):
        assert secret not in question.faq_question + question.faq_answer

    page = client.get(guide).get_data(as_text=True)  # the cached guide shows it at once
    assert has(page, f"#faq-{question.id}", "迁户口后要换证吗")
    assert "张三" not in page and "13800138000" not in page

    clerk.post(f"/feedback/staff/questions/{question.id}/unpublish")
    assert not has(client.get(guide), f"#faq-{question.id}")


# ---- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, status, message", [
    ("", 400, "请填写问题"),
    ("要啥", 400, "问题太短了"),
    ("问" * 1001, 400, "不能超过 1000 个字"),
])
def test_an_empty_short_or_long_question_is_refused(world, me, text, status, message):
    response = _ask(me, world, text=text)
    assert response.status_code == status and message in errors(response)
    assert field_value(response, "text") == text  # kept
    assert db.session.scalar(select(Question.id)) is None


def test_asking_about_an_unknown_item_is_404(world, me):
    assert me.post("/feedback/ask/NO-SUCH", data={"text": "这个事项怎么办理?"}).status_code == 404


def test_a_clerk_of_another_department_cannot_answer_or_publish(world, me):
    _ask(me, world)
    question = db.session.scalar(select(Question))
    other = world.client_for(world.other_clerk)
    page = other.get(f"/feedback/staff/questions/{question.id}")
    assert page.status_code == 403 and "公安局户政管理部门答复" in errors(page)
    response = other.post(f"/feedback/staff/questions/{question.id}/answer",
                          data={"answer": "我来替他们答复一下。"})
    assert response.status_code == 403 and "不属于这个部门" in errors(response)
    publish = other.post(f"/feedback/staff/questions/{question.id}/publish",
                         data={"faq_question": "问题问题", "faq_answer": "答复答复"})
    assert publish.status_code == 403
    db.session.refresh(question)
    assert question.status == "open" and question.published_at is None
    assert world.sms("feedback_question_answered") == []
    # a citizen is not staff at all
    assert world.client_for(world.stranger).get(
        f"/feedback/staff/questions/{question.id}").status_code == 403


def test_another_citizen_cannot_see_a_question(world, me):
    _ask(me, world)
    question = db.session.scalar(select(Question))
    other = world.client_for(world.stranger)
    response = other.get(f"/feedback/questions/{question.id}")
    assert response.status_code == 404 and "只能查看本人提出的问题" in errors(response)
    assert other.get(f"/progress/question/{question.id}").status_code == 404


def test_an_empty_answer_and_publishing_before_answering_are_refused(world, me):
    _ask(me, world)
    question = db.session.scalar(select(Question))
    clerk = world.client_for(world.clerk)
    early = clerk.post(f"/feedback/staff/questions/{question.id}/publish",
                       data={"faq_question": "迁户口后要换证吗?", "faq_answer": "不用换。"})
    assert early.status_code == 409 and "请先答复" in errors(early)
    empty = clerk.post(f"/feedback/staff/questions/{question.id}/answer", data={"answer": ""})
    assert empty.status_code == 400 and "请填写答复内容" in errors(empty)
    clerk.post(f"/feedback/staff/questions/{question.id}/answer",
               data={"answer": "号码不变,可继续使用。"})
    blank = clerk.post(f"/feedback/staff/questions/{question.id}/publish",
                       data={"faq_question": "", "faq_answer": "号码不变,可继续使用。"})
    assert blank.status_code == 400 and "请填写公开的问题" in errors(blank)
    assert field_value(blank, "faq_answer") == "号码不变,可继续使用。"  # the typed answer is kept


def test_admin_sets_the_departments_of_the_halls_staff_only(world):
    admin = world.client_for(world.admin)
    page = admin.get("/feedback/admin/departments").get_data(as_text=True)
    assert "王丽" in page and "人力资源和社会保障局" in page
    admin.post("/feedback/admin/departments",
               data={"user_id": world.other_clerk.id,
                     "department": ["公安局户政管理部门", "不存在的部门"]})
    from app.core.access import departments_of
    assert departments_of(world.other_clerk) == ["公安局户政管理部门"]
    refused = world.client_for(world.other_admin).post(
        "/feedback/admin/departments", data={"user_id": world.clerk.id,
                                             "department": ["人力资源和社会保障局"]})
    assert refused.status_code == 403
    assert departments_of(world.clerk) == ["公安局户政管理部门"]
    assert world.client_for(world.clerk).get("/feedback/admin/departments").status_code == 403


def test_answering_and_correcting_are_audited_moves(world, me):
    from app.core.models import AuditLog

    _ask(me, world)
    question = db.session.scalar(select(Question))
    clerk = world.client_for(world.clerk)
    for text in ("身份证号码不变,有效期内可继续使用。", "号码不变;也可申请换领新证。"):
        clerk.post(f"/feedback/staff/questions/{question.id}/answer", data={"answer": text})
    rows = db.session.scalars(select(AuditLog).where(
        AuditLog.entity == "question", AuditLog.entity_id == question.id)
        .order_by(AuditLog.id)).all()
    assert [(r.from_status, r.to_status, r.actor_id) for r in rows[1:]] == [
        ("open", "answered", world.clerk.id), ("answered", "answered", world.clerk.id)]
    assert (rows[2].public_note, rows[2].note) == (
        "答复内容已更新。", "号码不变;也可申请换领新证。")
    db.session.refresh(question)
    assert question.answer == "号码不变;也可申请换领新证。"
    assert len(world.sms("feedback_question_answered")) == 1
