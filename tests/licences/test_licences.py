"""Electronic licences (issue 23): issued on 办结, the wallet, 免提交 with live status, 亮证 and
its check, revoke and replace; every bad input refused in Chinese with a 4xx."""

from datetime import date, timedelta

import pytest
from applications.application_kit import photo
from conftest import shanghai
from html_kit import errors, has, text_of
from licences.licence_kit import World
from sqlalchemy import select

from app.applications.models import Application
from app.extensions import db
from app.licences import services
from app.licences.models import Licence, LicenceShow, LicenceUse
from app.sms.models import SmsMessage

WHEN = shanghai("2026-12-02 10:00")  # a Wednesday morning


@pytest.fixture
def world(app):
    return World(app)


def _licence(world, user=None, **kw) -> Licence:
    row = Licence(type_code=kw.pop("type_code", "residence_permit"),
                  number=kw.pop("number", "JZ-TEST-1"), holder_name="张三",
                  holder_user_id=(user or world.citizen).id, department="公安局",
                  hall_id=world.hall.id, issued_on=kw.pop("issued_on", date(2026, 1, 1)), **kw)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.time_machine(WHEN, tick=True)
def test_completing_an_item_that_issues_a_licence_puts_it_in_the_wallet(world):
    citizen, clerk = world.client(world.citizen), world.client(world.clerk)
    row = world.draft(citizen, world.issuer)
    world.upload_all(citizen, row, photo())
    assert citizen.post(f"/applications/{row.id}/submit").status_code == 303
    world.complete(row, clerk)
    [licence] = world.licences_of(world.citizen)
    assert licence.type_name == "居住证" and licence.application_id == row.id
    assert licence.hall_id == world.hall.id and licence.department == "公安局"
    assert licence.issued_on == date(2026, 12, 2) and licence.expires_on == date(2027, 12, 1)
    assert licence.number.startswith("JZ20261202")
    assert db.session.scalar(select(SmsMessage).where(SmsMessage.template == "licence_issued"))
    page = citizen.get("/licences").get_data(as_text=True)
    assert "居住证" in page and licence.number in page and "有效" in page
    # Only the holder: another citizen gets 404, never a hint that it exists.
    assert world.client(world.other).get(f"/licences/{licence.id}").status_code == 404


@pytest.mark.time_machine(WHEN, tick=True)
def test_a_held_licence_stands_in_for_the_material_and_the_clerk_sees_its_live_status(world):
    licence = _licence(world)
    citizen, clerk = world.client(world.citizen), world.client(world.clerk)
    row = world.draft(citizen, world.user_item)
    page = citizen.get(f"/applications/{row.id}/materials").get_data(as_text=True)
    assert "已有电子证照,无需提交" in page and licence.number in page
    db.session.expire_all()
    material = db.session.get(Application, row.id).materials[0]
    assert material.licence_id == licence.id and material.current == []
    world.upload_all(citizen, db.session.get(Application, row.id), photo())
    check = citizen.get(f"/applications/{row.id}/check").get_data(as_text=True)
    assert f"电子证照 {licence.number}(免提交)" in check
    assert citizen.post(f"/applications/{row.id}/submit").status_code == 303
    assert clerk.post(f"/review/{row.id}/claim").status_code == 303
    page = clerk.get(f"/review/{row.id}").get_data(as_text=True)
    assert "电子证照(免提交)" in page and licence.number in page and "有效" in page
    uses = db.session.scalars(select(LicenceUse).where(LicenceUse.licence_id == licence.id)).all()
    assert {u.kind for u in uses} == {"material", "review"}
    # Revoked meanwhile: the review shows it live, and it no longer counts.
    admin = world.client(world.admin)
    response = admin.post(f"/staff/licences/{licence.id}/revoke", data={"reason": "证照信息有误"})
    assert response.status_code == 303
    page = clerk.get(f"/review/{row.id}").get_data(as_text=True)
    assert "已注销" in page and "该证照已不能代替材料" in page
    # The citizen's 用证记录 names who looked and what for.
    page = citizen.get(f"/licences/{licence.id}").get_data(as_text=True)
    assert "预审查看" in page and "窗口clerk1" in page


@pytest.mark.time_machine(WHEN, tick=True)
def test_a_revoked_licence_no_longer_counts_and_the_material_asks_for_a_photo(world):
    licence = _licence(world)
    citizen = world.client(world.citizen)
    row = world.draft(citizen, world.user_item)
    citizen.get(f"/applications/{row.id}/materials")
    licence.status = "revoked"
    db.session.commit()
    page = citizen.get(f"/applications/{row.id}/materials").get_data(as_text=True)
    assert "所用电子证照已注销,请上传照片" in page
    response = citizen.post(f"/applications/{row.id}/submit")
    assert response.status_code == 400
    assert "“居住证”的电子证照已失效" in response.get_data(as_text=True)
    # A new draft with only a revoked licence held: the photo, as today.
    db.session.get(Application, row.id).status = "withdrawn"
    db.session.commit()
    row2 = world.draft(citizen, world.user_item)
    page = citizen.get(f"/applications/{row2.id}/materials").get_data(as_text=True)
    assert "已有电子证照,无需提交" not in page and "拍照" in page


@pytest.mark.time_machine(WHEN, tick=True)
@pytest.mark.parametrize("case, status, words", [
    ("expired", 409, "这本证照已过有效期"),
    ("revoked", 409, "这本证照已被注销"),
    ("someone_else", 403, "不属于您或您关联的企业"),
    ("wrong_type", 409, "这项材料需要居住证"),
])
def test_a_licence_that_cannot_count_is_refused_beside_the_material(world, case, status, words):
    citizen = world.client(world.citizen)
    row = world.draft(citizen, world.user_item)
    citizen.get(f"/applications/{row.id}/materials")
    kw = {"expired": dict(expires_on=date(2026, 6, 30)), "revoked": dict(status="revoked"),
          "someone_else": dict(user=world.other), "wrong_type": dict(type_code="marriage_cert")
          }[case]
    offered = _licence(world, number="OFFERED-1", **kw)
    material = db.session.get(Application, row.id).materials[0]
    response = citizen.post(f"/applications/{row.id}/materials/{material.id}/licence",
                            data={"licence_id": offered.id}, headers={"HX-Request": "true"})
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Application, row.id).materials[0].licence_id is None


def _show(world, licence, citizen) -> LicenceShow:
    response = citizen.post(f"/licences/{licence.id}/show", data={"purpose": "公租房申请"})
    assert response.status_code == 303
    page = citizen.get(response.location)
    show = db.session.scalars(select(LicenceShow).order_by(LicenceShow.id.desc())).first()
    assert text_of(page, ".licence-code") == f"{show.code[:4]} {show.code[4:]}"
    assert has(page, ".licence-qr svg")
    return show


@pytest.mark.time_machine(WHEN, tick=True)
def test_a_clerk_verifies_a_shown_licence_once_with_the_watermark(world):
    licence = _licence(world)
    citizen, clerk = world.client(world.citizen), world.client(world.clerk)
    show = _show(world, licence, citizen)
    response = clerk.post("/licences/verify", data={"code": show.code, "window": "A01"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "仅供 测试大厅A01 窗口办理 公租房申请 使用" in page and licence.number in page
    assert "有效" in page
    # Reused: refused, nothing of the licence shown.
    again = clerk.post("/licences/verify", data={"code": show.code})
    assert again.status_code == 410 and licence.number not in again.get_data(as_text=True)
    assert "亮证码无效、已过期或已使用" in again.get_data(as_text=True)
    # The QR holds a /t/ link: opening it leads the clerk to the check, changing nothing.
    show2 = _show(world, licence, citizen)
    opened = clerk.get(f"/t/{show2.token}")
    assert opened.status_code == 303 and "/licences/verify?token=" in opened.location
    response = clerk.post("/licences/verify", data={"code": f"http://localhost/t/{show2.token}"})
    assert response.status_code == 200 and licence.number in response.get_data(as_text=True)
    page = citizen.get(f"/licences/{licence.id}").get_data(as_text=True)
    assert "窗口核验" in page and "测试大厅A01办理公租房申请" in page


@pytest.mark.parametrize("typed, status", [("12345678", 404), ("abcdefghijkl", 404),
                                           ("", 400), ("<script>", 400)])
def test_a_forged_token_shows_nothing(world, typed, status):
    clerk = world.client(world.clerk)
    _licence(world)
    response = clerk.post("/licences/verify", data={"code": typed})
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert "JZ-TEST-1" not in text and ("亮证码" in text)


def test_an_expired_token_shows_nothing(world, time_machine):
    time_machine.move_to(WHEN, tick=False)
    licence = _licence(world)
    citizen, clerk = world.client(world.citizen), world.client(world.clerk)
    show = _show(world, licence, citizen)
    time_machine.move_to(WHEN + timedelta(minutes=5, seconds=1), tick=False)
    response = clerk.post("/licences/verify", data={"code": show.code})
    assert response.status_code == 410 and licence.number not in response.get_data(as_text=True)
    assert db.session.get(LicenceShow, show.id).used_at is None


def test_a_token_lives_five_minutes(world, time_machine):
    time_machine.move_to(WHEN, tick=False)
    licence = _licence(world)
    citizen, clerk = world.client(world.citizen), world.client(world.clerk)
    show = _show(world, licence, citizen)
    time_machine.move_to(WHEN + timedelta(minutes=4, seconds=59), tick=False)
    response = clerk.post("/licences/verify", data={"code": show.code})
    assert response.status_code == 200 and licence.number in response.get_data(as_text=True)


def test_a_signed_link_of_another_purpose_is_no_licence_token(world, app):
    """Purpose-bound: a genuine /t/ link made for something else (its MAC is good) opens no
    licence at the check."""
    from app.core.links import make_link

    _licence(world)
    with app.test_request_context():
        url = make_link("supplement", "application", 1)
    db.session.commit()
    clerk = world.client(world.clerk)
    response = clerk.post("/licences/verify", data={"code": url})
    text = response.get_data(as_text=True)
    assert response.status_code == 404 and "亮证码无效" in text and "JZ-TEST-1" not in text


def test_only_staff_at_a_hall_counter_verify(world):
    licence = _licence(world)
    show = _show(world, licence, world.client(world.citizen))
    other = world.client(world.other)
    assert other.post("/licences/verify", data={"code": show.code}).status_code == 403
    assert world.app.test_client().get("/licences/verify").status_code == 302


@pytest.mark.time_machine(WHEN, tick=True)
def test_staff_replace_and_revoke_with_a_reason(world):
    licence = _licence(world)
    admin = world.client(world.admin)
    response = admin.post(f"/staff/licences/{licence.id}/replace", data={"reason": "  "})
    assert response.status_code == 400 and "请填写原因" in errors(response)
    response = admin.post(f"/staff/licences/{licence.id}/replace", data={"reason": "遗失补领"})
    assert response.status_code == 303
    db.session.expire_all()
    old = db.session.get(Licence, licence.id)
    assert old.status == "replaced" and old.status_reason == "遗失补领"
    new = db.session.get(Licence, old.replaced_by_id)
    assert new.valid_now and new.holder_user_id == world.citizen.id
    response = admin.post(f"/staff/licences/{licence.id}/revoke", data={"reason": "再次操作"})
    assert response.status_code == 409 and "不能" in errors(response)
    # A clerk of another hall may neither see nor change it.
    far = world.client(world.far_clerk)
    assert far.get(f"/staff/licences/{new.id}").status_code == 403
    assert far.post(f"/staff/licences/{new.id}/revoke", data={"reason": "x"}).status_code == 403
    # Each staff view is recorded in 用证记录.
    admin.get(f"/staff/licences/{new.id}")
    assert db.session.scalar(select(LicenceUse).where(
        LicenceUse.licence_id == new.id, LicenceUse.kind == "staff_view"))


def test_company_licences_reach_the_people_linked_to_the_company(world):
    from app.licences.models import Company

    company = Company(credit_code="91152201MA0N4D3X1B", name="兴安味道餐饮有限公司")
    db.session.add(company)
    db.session.flush()
    services.link_person(company, world.citizen.id)
    row = Licence(type_code="business_licence", number="YZ-1", holder_name=company.name,
                  company_id=company.id, department="市场监督管理局", hall_id=world.hall.id,
                  issued_on=date(2024, 1, 1))
    db.session.add(row)
    db.session.commit()
    assert "YZ-1" in world.client(world.citizen).get("/licences").get_data(as_text=True)
    assert world.client(world.citizen).get(f"/licences/{row.id}").status_code == 200
    assert world.client(world.other).get(f"/licences/{row.id}").status_code == 404


def test_the_checklist_marks_a_material_a_licence_stands_in_for(world, client):
    page = client.get(f"/services/{world.user_item.code}/checklist").get_data(as_text=True)
    assert "有居住证电子证照的可免提交" in page
    # ...and so does its picture, the 一次告知单 saved inside WeChat (drawn from these lines).
    from app.catalog.checklist_image import blocks
    from app.catalog.services import merge_materials

    lines = [text for text, _, _ in blocks("公租房申请", [world.user_item],
                                           merge_materials([world.user_item]), None, WHEN)]
    assert [t for t in lines if "可免提交" in t] == ["原件 1 份 · 有居住证电子证照的可免提交"]


def test_a_company_licence_goes_to_the_company_named_by_its_credit_code(world):
    from app.applications.models import Application as App
    from app.licences.models import Company, CompanyMember

    item = world.issuer
    item.licence_type, item.licence_years = "food_business", 5
    row = App(citizen_id=world.citizen.id, item_id=item.id, hall_id=world.hall.id, title="x",
              number="YS1", applicant_name="张三", answers=[
                  {"key": "credit_code", "label": "统一社会信用代码", "kind": "text",
                   "value": "91152201ma0n4d3x1b"},
                  {"key": "company_name", "label": "企业名称", "kind": "text",
                   "value": "兴安味道餐饮有限公司"}])
    db.session.add(row)
    db.session.flush()
    licence = services.issue_for(row, None)
    db.session.commit()
    company = db.session.scalar(select(Company))
    assert licence.company_id == company.id and licence.holder_user_id is None
    assert company.credit_code == "91152201MA0N4D3X1B" and company.name == "兴安味道餐饮有限公司"
    assert db.session.scalar(select(CompanyMember.user_id)) == world.citizen.id
    assert services.issue_for(row, None) is licence  # once per application
    # Without a code among the answers: the one company the applicant acts for.
    row2 = App(citizen_id=world.citizen.id, item_id=item.id, hall_id=world.hall.id, title="y",
               number="YS2", applicant_name="张三", answers=[])
    db.session.add(row2)
    db.session.flush()
    assert services.issue_for(row2, None).company_id == company.id


def test_guessing_codes_is_slowed_down(world, app):
    app.config["LICENCE_VERIFY_LIMIT"] = "3/minute"
    try:
        clerk = world.client(world.clerk)
        answers = [clerk.post("/licences/verify", data={"code": "1234567" + str(n)}).status_code
                   for n in range(5)]
    finally:
        app.config["LICENCE_VERIFY_LIMIT"] = "20/minute"
    assert answers[:3] == [404, 404, 404] and answers[3:] == [429, 429]
