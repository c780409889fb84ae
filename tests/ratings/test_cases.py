"""Rectification: the state machine, clocks, reminders, appeals, privacy and hall scoping."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from html_kit import errors, has

from app.core.models import AuditLog
from app.core.states import move
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import OutboxJob, execute
from app.ratings import services
from app.ratings.models import Rectification
from app.ratings.states import ALLOWED, CaseStatus
from app.sms.models import SmsMessage


@pytest.fixture
def bad(world, citizen_client):
    """A citizen's bad rating (made on their own phone) with its open case."""
    invite = world.invite()
    world.rate(citizen_client, invite, 2, reason="slow", reason_text="等了很久")
    return db.session.query(Rectification).one()


def _contact(client, case, **over):
    data = {"method": "phone", "plan": "simple", "note": "电话联系,说明排队原因",
            "reply": "已电话联系您,我们将增开窗口。", **over}
    return client.post(f"/ratings/cases/{case.id}/contact", data=data)


def test_the_whole_loop_and_the_citizens_timeline(world, client, auth, bad, citizen_client):
    auth.login_staff("admin1", "secret-pass-2")
    page = client.get("/ratings/cases").get_data(as_text=True)
    assert bad.number in page and "期限" in page
    assert _contact(client, bad).status_code == 303
    assert db.session.get(Rectification, bad.id).status == "contacted"
    response = client.post(f"/ratings/cases/{bad.id}/fix",
                           data={"note": "高峰期增开两个窗口", "reply": "已在高峰期增开两个窗口。"})
    assert response.status_code == 303
    case = db.session.get(Rectification, bad.id)
    assert case.status == "rectified" and case.rectified_at and case.replied_at
    reply = db.session.query(SmsMessage).filter_by(template="rating_reply").one()
    assert reply.phone == "13800138000"
    page = citizen_client.get(f"/ratings/r/{case.rating_id}").get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    notes = [li.get_text(" ", strip=True) for li in soup.select("#case-timeline li")]
    assert "增开两个窗口" in notes[0] and "电话联系您" in notes[1]  # newest first
    assert "电话联系,说明排队原因" not in page  # staff notes stay internal
    assert client.post(f"/ratings/r/{case.rating_id}/outcome",
                       data={"score": 4}).status_code == 404  # the admin is not the rater
    assert citizen_client.post(f"/ratings/r/{case.rating_id}/outcome",
                               data={"score": 4}).status_code == 303
    assert citizen_client.post(f"/ratings/r/{case.rating_id}/outcome",
                               data={"score": 1}).status_code == 409
    assert db.session.get(Rectification, bad.id).outcome_score == 4
    response = client.post(f"/ratings/cases/{bad.id}/verify",
                           data={"satisfied": "yes", "note": "回访满意"})
    assert response.status_code == 303
    case = db.session.get(Rectification, bad.id)
    assert case.status == "verified" and case.due_at is None
    moves = [a.to_status for a in db.session.query(AuditLog).filter_by(
        entity="rectification", entity_id=bad.id).order_by(AuditLog.id)]
    assert moves == ["open", "contacted", "rectified", "outcome_rated", "verified"]


def test_missing_fields_come_back_beside_the_form(world, client, auth, bad):
    auth.login_staff("admin1", "secret-pass-2")
    response = _contact(client, bad, plan="", note="打过电话")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请选择整改安排" in errors(response)
    soup = BeautifulSoup(page, "html.parser")
    assert soup.select_one("#contact-note").get_text() == "打过电话"
    assert db.session.get(Rectification, bad.id).status == "open"


def test_a_move_the_table_does_not_allow_is_refused(world, client, auth, bad):
    auth.login_staff("admin1", "secret-pass-2")
    response = client.post(f"/ratings/cases/{bad.id}/verify",
                           data={"satisfied": "yes", "note": "x"})
    assert response.status_code == 409 and "不能改为" in errors(response)
    with pytest.raises(services.RatingError):
        move(bad, CaseStatus.RECTIFIED, world.admin.id)
    assert CaseStatus.VERIFIED not in ALLOWED[CaseStatus.OPEN]


def test_clerk_of_another_hall_is_refused(world, client, auth, bad):
    auth.login_staff("clerk2", "secret-pass-3")
    response = client.get(f"/ratings/cases/{bad.id}")
    assert response.status_code == 403 and "其他大厅" in errors(response)
    assert _contact(client, bad).status_code == 403
    assert bad.number not in client.get("/ratings/cases").get_data(as_text=True)


def test_clerks_never_see_the_rater_admins_see_them_masked(world, client, auth, bad):
    auth.login_staff("clerk1", "secret-pass-1")
    page = client.get(f"/ratings/cases/{bad.id}").get_data(as_text=True)
    assert "138****8000" not in page and "张*" not in page and "张三" not in page
    assert "看不到评价人的身份" in page
    mine = client.get("/ratings/staff/mine").get_data(as_text=True)
    assert "不满意" in mine and "138" not in mine and "张三" not in mine
    auth.logout()
    auth.login_staff("admin1", "secret-pass-2")
    page = client.get(f"/ratings/cases/{bad.id}").get_data(as_text=True)
    rater = BeautifulSoup(page, "html.parser").select_one("#rater").get_text()
    assert "138****8000" in rater and "张*" in rater and "13800138000" not in page


def test_appeal_dismissed_keeps_the_rating_but_not_in_the_figures(world, client, auth, bad):
    from app.ratings import figures

    scope = figures.Scope(start=utcnow().date() - timedelta(days=2),
                          end=utcnow().date() + timedelta(days=2), hall_id=world.hall.id)
    assert figures.totals(scope).counts["bad"] == 1
    auth.login_staff("clerk1", "secret-pass-1")
    response = client.post(f"/ratings/cases/{bad.id}/appeal",
                           data={"appeal_reason": "malicious", "evidence": ""})
    assert response.status_code == 400 and "申诉的依据" in errors(response)
    response = client.post(f"/ratings/cases/{bad.id}/appeal",
                           data={"appeal_reason": "malicious", "evidence": "监控 10:02-10:15"})
    assert response.status_code == 303
    case = db.session.get(Rectification, bad.id)
    assert case.status == "under_appeal" and case.due_at is None and case.appeal_from == "open"
    # a clerk cannot decide their own appeal
    response = client.post(f"/ratings/cases/{bad.id}/decide",
                           data={"decision": "dismissed", "note": "x"})
    assert response.status_code == 403
    auth.logout()
    auth.login_staff("admin1", "secret-pass-2")
    response = client.post(f"/ratings/cases/{bad.id}/decide",
                           data={"decision": "dismissed", "note": "监控显示正常办理"})
    assert response.status_code == 303
    case = db.session.get(Rectification, bad.id)
    assert case.status == "dismissed" and case.rating.excluded
    totals = figures.totals(scope)
    assert totals.counts["bad"] == 0 and totals.counts["counted"] == 0
    assert totals.counts["invites"] == 1 and totals.counts["unrated"] == 0


def test_appeal_upheld_resumes_the_case_with_a_fresh_clock(world, client, auth, bad):
    auth.login_staff("admin1", "secret-pass-2")
    _contact(client, bad, plan="complex")
    auth.logout()
    auth.login_staff("clerk1", "secret-pass-1")
    client.post(f"/ratings/cases/{bad.id}/appeal",
                data={"appeal_reason": "mistaken", "evidence": "评价的不是本窗口"})
    auth.logout()
    auth.login_staff("admin1", "secret-pass-2")
    client.post(f"/ratings/cases/{bad.id}/decide", data={"decision": "upheld", "note": "差评属实"})
    case = db.session.get(Rectification, bad.id)
    assert case.status == "upheld" and not case.rating.excluded
    assert case.due_at - utcnow() > timedelta(days=14)  # the complex plan's 15 working days
    page = client.get(f"/ratings/cases/{bad.id}")
    assert has(page, "#form-fix") and not has(page, "#form-contact")
    assert client.post(f"/ratings/cases/{bad.id}/fix",
                       data={"note": "已更正", "reply": "已更正办理结果。"}).status_code == 303
    assert db.session.get(Rectification, bad.id).status == "rectified"


def test_overdue_job_flags_the_case_and_texts_staff_with_a_phone(world, client, auth, bad):
    world.admin.phone = "13700137000"
    bad.due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    from app import jobs

    row = jobs.enqueue("ratings.case_overdue", bad.id, bad.due_at.isoformat())
    db.session.commit()
    assert execute(row.id) == "done"
    case = db.session.get(Rectification, bad.id)
    assert case.overdue_at == case.due_at
    texts = db.session.query(SmsMessage).filter_by(template="rating_case_overdue").all()
    assert [t.phone for t in texts] == ["13700137000"] and case.number in texts[0].text
    assert execute(jobs.enqueue("ratings.case_overdue", bad.id,
                                bad.due_at.isoformat()).id) == "done"
    db.session.commit()
    assert db.session.query(SmsMessage).filter_by(template="rating_case_overdue").count() == 1
    # the clerk has no phone: the case list is their reminder
    auth.login_staff("clerk1", "secret-pass-1")
    page = client.get("/ratings/cases").get_data(as_text=True)
    reminders = BeautifulSoup(page, "html.parser").select_one("#case-reminders")
    assert case.number in reminders.get_text() and "已逾期" in reminders.get_text()


def test_a_stale_reminder_does_nothing_once_the_case_moved_on(world, client, auth, bad):
    from app import jobs

    due = bad.due_at.isoformat()
    auth.login_staff("admin1", "secret-pass-2")
    _contact(client, bad)
    row = jobs.enqueue("ratings.case_reminder", bad.id, due)
    db.session.commit()
    execute(row.id)
    assert db.session.query(SmsMessage).filter_by(template="rating_case_due").count() == 0
    assert db.session.query(OutboxJob).filter_by(name="ratings.case_reminder").count() >= 1


def test_the_reply_sms_link_opens_the_citizens_timeline(world, client, auth, bad,
                                                        citizen_client):
    auth.login_staff("admin1", "secret-pass-2")
    client.post(f"/ratings/cases/{bad.id}/explain", data={"reply": "依据规定须本人到场办理。"})
    message = db.session.query(SmsMessage).filter_by(template="rating_reply").one()
    assert len(message.text) <= 70 + 20  # one segment plus the link's host in tests
    path = "/t/" + message.params["link"].rsplit("/t/", 1)[1]
    response = citizen_client.get(path)
    assert response.headers["Location"].endswith(f"/ratings/r/{bad.rating_id}")
    page = citizen_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "依据规定须本人到场办理" in page and has(page, "#outcome-form")
    assert client.get(path).status_code == 403  # the admin is not the person served


def test_a_late_move_keeps_the_case_counted_as_overdue(world, client, auth, bad):
    bad.due_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    auth.login_staff("admin1", "secret-pass-2")
    _contact(client, bad)
    case = db.session.get(Rectification, bad.id)
    assert case.overdue_at is not None and case.due_at > utcnow()
    assert case.rating.invite.case_overdue_at == case.overdue_at


def test_an_appeal_upheld_after_the_case_closed_stays_closed(world, client, auth, bad):
    auth.login_staff("admin1", "secret-pass-2")
    client.post(f"/ratings/cases/{bad.id}/explain", data={"reply": "依法不能变更。"})
    auth.logout()
    auth.login_staff("clerk1", "secret-pass-1")
    client.post(f"/ratings/cases/{bad.id}/appeal",
                data={"appeal_reason": "mistaken", "evidence": "办件记录显示已按规定告知"})
    auth.logout()
    auth.login_staff("admin1", "secret-pass-2")
    client.post(f"/ratings/cases/{bad.id}/decide", data={"decision": "upheld", "note": "维持"})
    case = db.session.get(Rectification, bad.id)
    assert case.status == "upheld" and case.due_at is None
    assert bad.number not in client.get("/ratings/cases").get_data(as_text=True)
    assert bad.number in client.get("/ratings/cases?show=closed").get_data(as_text=True)
    page = client.get(f"/ratings/cases/{bad.id}")
    assert not has(page, '[id^="form-"]')  # nothing left to do
