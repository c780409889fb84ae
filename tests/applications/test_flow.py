"""Applying, supplementing, deciding: the state machine and its SMS, end to end through pages."""

import re
from datetime import timedelta

from applications.application_kit import VALID_ID, photo
from html_kit import errors
from sqlalchemy import select

from app.applications import deadlines, decisions, services
from app.applications.drafts import AppError
from app.applications.models import Application
from app.applications.states import Status
from app.core.models import AuditLog
from app.core.states import move
from app.core.timeutil import local_now
from app.extensions import db


def _decide(world, row, **fields):
    data = {}
    for m in row.materials:
        data[f"verdict-{m.id}"] = "ok"
    data.update(fields)
    return world.client.post(f"/review/{row.id}/decide", data=data)


def test_start_page_lists_materials_and_marks_the_ones_that_may_be_missing(world, client, auth):
    auth.login_citizen()
    page = client.get(f"/apply/{world.item.code}").get_data(as_text=True)
    assert "变更登记申请书" in page and "可容缺" in page and "开始申请" in page


def test_a_draft_is_kept_and_continued(world, client):
    row = world.draft()
    world.upload(row, 0, photo())
    again = client.post(f"/apply/{world.item.code}")
    assert again.location.endswith(f"/applications/{row.id}/applicant")
    mine = client.get("/applications").get_data(as_text=True)
    assert "未提交的草稿" in mine and world.item.name in mine
    page = client.get(f"/applications/{row.id}/materials").get_data(as_text=True)
    assert "已上传 1 张" in page and "还缺“法定代表人身份证”的照片" in page


def test_wrong_check_digit_is_refused_and_typed_values_kept(world, client, auth):
    row = world.draft()
    bad = VALID_ID[:-1] + "5"
    response = client.post(f"/applications/{row.id}/applicant", data={
        "name": "李四", "id_number": bad, "phone": "13800138000"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "身份证号码校验位不正确" in page and bad in page and "李四" in page
    db.session.refresh(row)
    assert row.id_number == VALID_ID


def test_submit_without_a_required_material_is_refused(world, client):
    row = world.draft()
    world.upload(row, 0, photo())
    response = client.post(f"/applications/{row.id}/submit")
    assert response.status_code == 400
    assert "还缺“法定代表人身份证”的照片" in response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.status == Status.DRAFT and len(row.materials[0].current) == 1


def test_submit_review_supplement_and_accept_with_missing(world, client, auth):
    row = world.submitted()
    assert row.status == Status.SUBMITTED and row.number.startswith("YS")
    receipt = client.get(f"/applications/{row.id}?done=1").get_data(as_text=True)
    assert row.number in receipt and "接下来" in receipt
    assert world.sms("app_submitted") == []  # the receipt is on screen: no SMS for it

    world.as_clerk()
    queue = client.get("/review").get_data(as_text=True)
    assert row.number in queue and "已等待" in queue
    assert client.post(f"/review/{row.id}/claim").status_code == 303
    assert world.sms("app_reviewing") == []  # the hall's own step
    flagged = row.materials[1]
    response = _decide(world, row, decision="supplement", **{
        f"verdict-{flagged.id}": "fix", f"fix-{flagged.id}": "blurry",
        f"text-{flagged.id}": "反面反光", f"verdict-{row.materials[2].id}": "missing"})
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.status == Status.SUPPLEMENT_REQUESTED and row.round == 2
    [message] = world.sms("app_supplement")
    link = re.search(r"http://localhost(/t/\w+)", message.text).group(1)

    # The citizen opens the SMS link in a browser that is not signed in.
    auth.logout()
    opened = client.get(link)
    assert opened.status_code == 303 and opened.location.endswith(f"/{row.id}/supplement")
    page = client.get(opened.location).get_data(as_text=True)
    assert "法定代表人身份证" in page and "照片模糊" in page and "反面反光" in page
    assert "变更登记申请书" not in page  # only the flagged material can be replaced
    assert world.upload(row, 0, photo()).status_code == 409
    assert world.upload(row, 1, photo(900, 1200)).status_code == 200
    assert client.post(f"/applications/{row.id}/submit").status_code == 303
    db.session.refresh(row)
    assert row.status == Status.SUBMITTED
    assert len(row.materials[1].history) == 1 and len(row.materials[1].current) == 1
    assert world.sms("app_submitted") == []

    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    review = client.get(f"/review/{row.id}").get_data(as_text=True)
    assert "历史版本 1 张" in review
    too_late = (decisions.max_due(row) + timedelta(days=1)).isoformat()
    missing = row.materials[2]
    response = _decide(world, row, decision="accept_missing", due=too_late,
                       **{f"verdict-{missing.id}": "missing"})
    assert response.status_code == 400 and "期限不能晚于承诺时限" in errors(response)
    response = _decide(world, row, decision="accept_missing",
                       due=decisions.max_due(row).isoformat(),
                       **{f"verdict-{missing.id}": "missing"})
    assert response.status_code == 303
    db.session.refresh(row)
    assert row.status == Status.ACCEPTED_WITH_MISSING and row.missing_due == decisions.max_due(row)
    assert len(world.sms("app_accepted_missing")) == 1
    assert {u.trust for u in row.materials[0].current} == {"B"}

    world.as_citizen()
    refused = client.post(f"/applications/{row.id}/commitment", data={})
    assert refused.status_code == 400 and "我已阅读并承诺" in errors(refused)
    assert client.post(f"/applications/{row.id}/commitment", data={"agree": "1"}).status_code == 303
    db.session.refresh(row)
    assert row.commitment_at is not None
    moves = db.session.scalars(select(AuditLog.to_status).where(
        AuditLog.entity == "application", AuditLog.entity_id == row.id).order_by(AuditLog.id)).all()
    assert moves[:6] == ["submitted", "reviewing", "supplement_requested", "submitted",
                         "reviewing", "accepted_with_missing"]


def test_decisions_without_reasons_are_refused_and_nothing_changes(world, client):
    row = world.submitted()
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    response = _decide(world, row, decision="reject")
    assert response.status_code == 400 and "请选择不予受理的原因" in errors(response)
    response = _decide(world, row, decision="reject", reason="other")
    assert response.status_code == 400 and "请写明不予受理的原因" in errors(response)
    flagged = row.materials[0]
    response = _decide(world, row, decision="supplement", **{f"verdict-{flagged.id}": "fix"})
    assert response.status_code == 400 and "请选择“变更登记申请书”需补正的原因" in errors(response)
    response = world.client.post(f"/review/{row.id}/decide", data={"decision": "accept"})
    assert response.status_code == 400 and "请给出“变更登记申请书”的审核意见" in \
        response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.status == Status.REVIEWING and all(m.verdict is None for m in row.materials)
    response = _decide(world, row, decision="reject", reason="not_eligible")
    assert response.status_code == 303
    db.session.refresh(row)
    assert row.status == Status.REJECTED and row.closed_at is not None
    assert len(world.sms("app_rejected")) == 1


def test_two_clerks_never_claim_the_same_application(world, client, app):
    row = world.submitted()
    decisions.claim(row, world.clerk)
    other = app.test_client()
    other.post("/staff/login", data={"username": "clerk2", "password": "secret-pass-1"})
    response = other.post(f"/review/{row.id}/claim")
    assert response.status_code == 409 and "已在审核这个办件" in errors(response)
    db.session.refresh(row)
    assert row.claimed_by == world.clerk.id
    # A clerk cannot decide an application someone else holds.
    response = other.post(f"/review/{row.id}/decide", data={"decision": "accept"})
    assert response.status_code == 409
    # Taking over is explicit and names whose claim it was; a stale view cannot take it.
    page = other.get(f"/review/{row.id}").get_data(as_text=True)
    assert "正在审核这个办件" in page and "接手审核" in page
    assert other.post(f"/review/{row.id}/take",
                      data={"claimed_by": world.clerk2.id}).status_code == 409
    assert other.post(f"/review/{row.id}/take",
                      data={"claimed_by": world.clerk.id}).status_code == 303
    db.session.refresh(row)
    assert row.claimed_by == world.clerk2.id and row.status == Status.REVIEWING
    note = db.session.scalar(select(AuditLog.note).where(
        AuditLog.entity == "application", AuditLog.entity_id == row.id
    ).order_by(AuditLog.id.desc()))
    assert "接手" in note


def test_transition_refuses_moves_the_table_does_not_allow(world):
    row = world.draft()
    try:
        move(row, Status.ACCEPTED)
    except AppError as err:
        assert err.status == 409 and "不能" in err.message
    else:
        raise AssertionError("draft -> accepted must be refused")
    db.session.rollback()


def test_accept_with_missing_lapses_after_the_deadline(world, client):
    row = world.submitted()
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    assert _decide(world, row, decision="accept", **{
        f"verdict-{row.materials[2].id}": "missing"}).status_code == 400
    db.session.rollback()
    # The optional material has no photo, so "accept" needs it marked ok: not possible.
    response = _decide(world, row, decision="accept_missing",
                       due=local_now().date().isoformat(),
                       **{f"verdict-{row.materials[2].id}": "missing"})
    assert response.status_code == 303
    db.session.refresh(row)
    later = services.utcnow() + timedelta(days=3)
    assert deadlines.housekeeping(later)["lapsed"] == 1
    db.session.refresh(row)
    assert row.status == Status.LAPSED and len(world.sms("app_lapsed")) == 1


def test_withdraw_a_submitted_application(world, client):
    row = world.submitted()
    assert client.post(f"/applications/{row.id}/withdraw").status_code == 303
    assert db.session.get(Application, row.id).status == Status.WITHDRAWN


def test_the_progress_link_in_the_sms_opens_the_application(world, app):
    row = world.submitted()
    assert world.sms("app_submitted") == []  # the person has just submitted it on screen
    other = app.test_client()
    opened = other.get(world.view_link(row))
    assert opened.status_code == 302
    page = other.get(opened.location)
    assert page.status_code == 200 and row.number in page.get_data(as_text=True)
    # The grant reaches this application's own page, and nothing else.
    assert other.get(f"/applications/{row.id}").status_code == 200
    assert other.get(f"/applications/{row.id + 1}").status_code == 302


def test_a_bundle_is_one_application_with_one_merged_material_list(world, client):
    from factories import bundle, item

    second = item(halls=[world.hall], materials=("法定代表人身份证", "税务登记表"),
                  promised_days=5)
    theme = bundle([world.item, second], name="我要变更企业信息")
    world.as_citizen()
    page = client.get(f"/apply/bundle/{theme.code}").get_data(as_text=True)
    assert "我要变更企业信息" in page and page.count("法定代表人身份证") == 1
    response = client.post(f"/apply/bundle/{theme.code}")
    row = db.session.get(Application, int(response.location.split("/")[-2]))
    assert row.bundle_id == theme.id and row.hall_id == world.hall.id and row.promised_days == 5
    assert [m.name for m in row.materials] == ["变更登记申请书", "法定代表人身份证",
                                               "新住所使用证明", "税务登记表"]


def test_after_pre_review_the_counter_starts_and_completes_it(world, client):
    row = world.submitted()
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    response = _decide(world, row, decision="accept_missing",
                       due=decisions.max_due(row).isoformat(),
                       **{f"verdict-{row.materials[2].id}": "missing"})
    assert response.status_code == 303
    assert client.post(f"/review/{row.id}/completed").status_code == 409  # not yet processing
    assert client.post(f"/review/{row.id}/supplied").status_code == 303
    assert client.post(f"/review/{row.id}/processing").status_code == 303
    assert client.post(f"/review/{row.id}/completed").status_code == 303
    db.session.refresh(row)
    assert row.status == Status.COMPLETED
    # 容缺受理 already told them it was accepted: 补齐 and 开始办理 send nothing
    assert [len(world.sms(t)) for t in ("app_accepted_missing", "app_accepted", "app_processing",
                                        "app_completed")] == [1, 0, 0, 1]
    [completed] = world.sms("app_completed")
    assert "欢迎评价网上预审服务" in completed.text and completed.text.count("/t/") == 2


def test_a_decided_matter_invites_one_rating(world, client):
    from app.ratings import services as ratings
    from app.ratings.models import RatingInvite

    row = world.submitted()
    world.as_clerk()
    client.post(f"/review/{row.id}/claim")
    assert _decide(world, row, decision="reject", reason="not_eligible").status_code == 303
    db.session.refresh(row)
    assert row.status == Status.REJECTED
    invites = db.session.scalars(select(RatingInvite).where(
        RatingInvite.entity == "application", RatingInvite.entity_id == row.id)).all()
    assert len(invites) == 1 and invites[0].channel == "online"
    assert invites[0].citizen_id == row.citizen_id
    assert _decide(world, row, decision="reject", reason="not_eligible").status_code != 303
    # 一事一评 holds whoever asks again for this matter (a later move, a re-run): the same one.
    again = ratings.invite("online", "application", row.id, row.citizen_id, row.closed_at,
                           row.hall_id, clerk_id=world.clerk.id, sms=False)
    db.session.commit()
    assert again.id == invites[0].id
    assert db.session.scalars(select(RatingInvite.id).where(
        RatingInvite.entity == "application", RatingInvite.entity_id == row.id)).all() == [
        invites[0].id]
