"""Free text people typed is shown to staff and the public with phone numbers, ID numbers and the
citizen's own name masked, through one function (issue 16, class 8): each kind through each
place."""

from datetime import timedelta

import pytest

import factories
from app.auth.models import StaffDepartment
from app.core.privacy import names_in, redact_text
from app.core.timeutil import utcnow
from app.extensions import db
from app.feedback import questions, reports
from app.ratings import services as ratings

PHONE, ID_NUMBER, NAME = "13912345678", "110105199001011238", "李明"
KINDS = {"phone": PHONE, "id": ID_NUMBER, "name": NAME}
TEXT = f"我是{NAME},电话{PHONE},身份证{ID_NUMBER},窗口让我跑了三趟还没办成"


@pytest.mark.parametrize("kind", KINDS)
def test_the_function_masks_each_kind(kind):
    masked = redact_text(TEXT, names=[NAME])
    assert KINDS[kind] not in masked
    assert "窗口让我跑了三趟还没办成" in masked


def test_names_the_writer_introduced_are_masked_without_being_told():
    assert NAME not in redact_text(f"您好,我叫{NAME},想问社保卡的事")
    assert NAME not in redact_text(f"{NAME}您好,社保卡可以先电话挂失",
                                   names=names_in(f"我叫{NAME}"))


@pytest.fixture
def world(app):
    hall = factories.hall()
    item = factories.item(code="SB-9", halls=[hall], department="人社局", name="社保卡挂失")
    clerk = factories.staff("clerk1", "x", "clerk", hall)
    colleague = factories.staff("clerk2", "x", "clerk", hall)
    db.session.add_all([StaffDepartment(user_id=clerk.id, department="人社局"),
                        StaffDepartment(user_id=colleague.id, department="人社局")])
    citizen = factories.citizen("13800138000", NAME)
    db.session.commit()
    return {"hall": hall, "item": item, "clerk": clerk, "colleague": colleague,
            "citizen": citizen, "app": app}


def _as(app, user):
    client = app.test_client()
    factories.sign_in(client, user)
    return client


def _pages_show_none_of_it(client, paths):
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        for kind, value in KINDS.items():
            assert value not in page, (kind, path)


def test_a_rating_text_is_masked_for_the_clerk_who_was_rated(world):
    app = world["app"]
    with app.test_request_context():
        invite = ratings.invite(channel="onsite", entity="booking", entity_id=1,
                                citizen_id=world["citizen"].id,
                                served_at=utcnow() - timedelta(minutes=5),
                                hall_id=world["hall"].id, item_id=world["item"].id,
                                clerk_id=world["clerk"].id)
        rating = ratings.submit_rating(invite.id, world["citizen"], ratings.RatingForm(
            score=1, reason="attitude", reason_text=TEXT))
    _pages_show_none_of_it(_as(app, world["clerk"]), [f"/ratings/cases/{rating.case.id}"])


def test_a_report_text_is_masked_for_the_hall(world):
    app = world["app"]
    with app.test_request_context():
        report = reports.create_report(world["citizen"], reports.ReportForm(
            item_code="SB-9", hall_id=str(world["hall"].id), description=TEXT))
    _pages_show_none_of_it(_as(app, world["clerk"]), [
        f"/feedback/staff/reports/{report.id}", "/feedback/staff/reports"])


def test_a_question_and_its_answer_are_masked_for_staff_and_in_the_faq(world):
    app = world["app"]
    asker = factories.citizen("13800138001")  # no name on the account: only in the text
    with app.test_request_context():
        question = questions.ask(asker, "SB-9", TEXT.replace("我是", "我叫"))
        questions.answer(question.id, world["clerk"],
                        f"{NAME}您好,社保卡可以先拨打 12333 或到窗口挂失。")
    colleague = _as(app, world["colleague"])
    _pages_show_none_of_it(colleague, [f"/feedback/staff/questions/{question.id}",
                                       "/feedback/staff/questions?show=answered"])
    page = colleague.get(f"/feedback/staff/questions/{question.id}").get_data(as_text=True)
    assert "12333" in page  # the answer itself is still there
    # the texts offered for publishing, published as offered
    draft_q, draft_a = questions.faq_draft(question)
    with app.test_request_context():
        questions.publish(question.id, world["clerk"], draft_q, draft_a)
    _pages_show_none_of_it(app.test_client(), ["/services/SB-9"])
    assert "12333" in app.test_client().get("/services/SB-9").get_data(as_text=True)
