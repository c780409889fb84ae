"""The item's own fields on the applicant page: checked, kept as typed, stored with their labels,
shown on the check page, to the citizen and to the clerk, and to nobody else."""

import re

import pytest
from applications.application_kit import VALID_ID, photo
from html_kit import count, errors, field, field_value, has, hrefs, one, soup, terms, text_of, texts

from app.applications.models import Application
from app.catalog import fields as form_fields
from app.catalog.models import ServiceItem
from app.extensions import db
from factories import bundle, item

FIELDS = [
    {"key": "change_type", "label": "变更事项", "kind": "select",
     "options": ["名称", "住所", "法定代表人"]},
    {"key": "change_detail", "label": "变更后内容", "kind": "textarea", "max_length": 20},
    {"key": "start_day", "label": "启用日期", "kind": "date", "required": False},
    {"key": "capital", "label": "注册资本(万元)", "kind": "number", "required": False},
]
GOOD = {"field-change_type": "住所", "field-change_detail": "兴安北大路 68 号",
        "field-start_day": "2026-12-01", "field-capital": "50"}


@pytest.fixture
def asking(world):
    world.item.form_fields = form_fields.clean_list(FIELDS)
    db.session.commit()
    return world


def _applicant(client, row, **answers):
    return client.post(f"/applications/{row.id}/applicant", data={
        "name": "张三", "id_number": VALID_ID, "phone": "13800138000", **answers})


def _started(world) -> Application:
    world.as_citizen()
    response = world.client.post(f"/apply/{world.item.code}")
    return db.session.get(Application, int(re.search(r"/applications/(\d+)/",
                                                     response.location).group(1)))


def test_the_page_asks_the_items_fields_after_the_basic_facts(asking, client):
    row = _started(asking)
    page = client.get(f"/applications/{row.id}/applicant").get_data(as_text=True)
    order = [tag.get("id") for tag in soup(page).select("form input, form select, form textarea")]
    assert order.index("phone") < order.index("field-change_type")
    assert "住所" in texts(page, "select#field-change_type option")
    assert field(page, "field-change_detail").name == "textarea"
    start = field(page, "field-start_day")
    assert (start["id"], start["type"], start.get("value")) == ("field-start_day", "date", "")
    assert "启用日期(选填)" in page and "变更事项(选填)" not in page


def test_missing_bad_and_too_long_answers_are_named_beside_each_field(asking, client):
    row = _started(asking)
    response = _applicant(client, row, **{"field-change_type": "",
                                          "field-change_detail": "", "field-start_day": "明天"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请选择变更事项" in text_of(page, "p.field-error#field-change_type-error")
    assert "请填写变更后内容" in errors(page)
    assert "启用日期请按“年-月-日”填写,如 2026-01-31" in errors(page)
    assert field_value(page, "field-start_day") == "明天"
    assert has(page, '.error-summary a[href="#field-change_detail"]')

    response = _applicant(client, row, **{**GOOD, "field-change_type": "股东",
                                          "field-change_detail": "长" * 21,
                                          "field-start_day": "2026-02-30",
                                          "field-capital": "五十"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ["请从列表中选择变更事项", "变更后内容不能超过 20 个字",
                    "启用日期请按“年-月-日”填写", "注册资本(万元)只能填数字"]:
        assert message in errors(page)
    assert field_value(page, "field-change_detail") == "长" * 21  # what was typed is kept
    assert field_value(page, "field-capital") == "五十"
    db.session.refresh(row)
    assert row.answers is None and row.id_number is None


def test_good_answers_are_kept_with_their_labels_and_shown_on_the_check_page(asking, client):
    row = _started(asking)
    response = _applicant(client, row, **{**GOOD, "field-capital": "",
                                          "field-change_detail": "  兴安北大路 68 号 "})
    assert response.status_code == 303 and response.location.endswith("/materials")
    db.session.refresh(row)
    assert row.answers == [
        {"key": "change_type", "label": "变更事项", "kind": "select", "value": "住所"},
        {"key": "change_detail", "label": "变更后内容", "kind": "textarea",
         "value": "兴安北大路 68 号"},
        {"key": "start_day", "label": "启用日期", "kind": "date", "value": "2026-12-01"},
        {"key": "capital", "label": "注册资本(万元)", "kind": "number", "value": ""},
    ]
    page = client.get(f"/applications/{row.id}/check").get_data(as_text=True)
    assert terms(page)["变更事项"] == "住所" and terms(page)["注册资本(万元)"] == "未填写"
    assert f"/applications/{row.id}/applicant?change=1#field-change_detail" in hrefs(page)
    # The numbers themselves are masked on screen, as everywhere (privacy rule).
    assert row.id_number not in page and row.id_number[:6] + "********" in page
    assert row.contact_phone not in page and row.contact_phone[:3] + "****" in page
    again = client.get(f"/applications/{row.id}/applicant?change=1").get_data(as_text=True)
    assert field_value(again, "field-change_type") == "住所"
    assert one(again, "select#field-change_type option[selected]")["value"] == "住所"
    assert field_value(again, "field-start_day") == "2026-12-01"


def test_answers_reach_the_clerk_and_stay_as_given_after_a_catalog_edit(asking, client):
    row = _started(asking)
    assert _applicant(client, row, **GOOD).status_code == 303
    asking.consent(row.id)
    for position in (0, 1):
        asking.upload(row, position, photo())
    assert client.post(f"/applications/{row.id}/submit").status_code == 303

    # The admin renames the field and drops an option; the submitted application is unchanged.
    changed = db.session.get(ServiceItem, asking.item.id)
    changed.form_fields = form_fields.clean_list([
        {"key": "change_type", "label": "本次变更的登记事项", "kind": "select",
         "options": ["名称", "经营范围"]}])
    db.session.commit()

    asking.as_clerk()
    page = client.get(f"/review/{row.id}").get_data(as_text=True)
    assert terms(page)["变更事项"] == "住所"
    assert "兴安北大路 68 号" in page and "本次变更的登记事项" not in page
    asking.as_citizen()
    page = client.get(f"/applications/{row.id}").get_data(as_text=True)
    assert terms(page)["变更事项"] == "住所" and terms(page)["启用日期"] == "2026-12-01"


def test_another_citizen_cannot_see_the_answers(asking, client):
    row = _started(asking)
    assert _applicant(client, row, **GOOD).status_code == 303
    asking.as_citizen("13900139000")
    for path in ("", "/check", "/applicant"):
        response = client.get(f"/applications/{row.id}{path}")
        assert response.status_code == 404
        assert "兴安北大路" not in response.get_data(as_text=True)
    assert _applicant(client, row, **{**GOOD, "field-change_type": "名称"}).status_code == 404
    db.session.refresh(row)
    assert row.answers[0]["value"] == "住所"


def test_a_draft_begun_before_the_fields_existed_cannot_be_submitted_unanswered(world, client):
    row = world.draft()
    for position in (0, 1):
        world.upload(row, position, photo())
    world.item.form_fields = form_fields.clean_list(FIELDS)
    db.session.commit()
    response = client.post(f"/applications/{row.id}/submit")
    assert response.status_code == 400
    assert "请先在申请人信息中填写“变更事项”" in response.get_data(as_text=True)
    assert _applicant(client, row, **GOOD).status_code == 303
    assert client.post(f"/applications/{row.id}/submit").status_code == 303


def test_a_bundle_asks_the_union_of_its_items_fields_once_each(asking, client):
    second = item(halls=[asking.hall], materials=("税务登记表",),
                  form_fields=form_fields.clean_list([
                      {"key": "change_type", "label": "变更事项", "kind": "select",
                       "options": ["名称", "住所"]},
                      {"key": "tax_office", "label": "主管税务机关", "kind": "text"}]))
    theme = bundle([asking.item, second])
    asking.as_citizen()
    response = client.post(f"/apply/bundle/{theme.code}")
    row = db.session.get(Application, int(response.location.split("/")[-2]))
    page = client.get(f"/applications/{row.id}/applicant").get_data(as_text=True)
    assert count(page, "#field-change_type") == 1 and count(page, "#field-tax_office") == 1
    response = _applicant(client, row, **GOOD)
    assert response.status_code == 400 and "请填写主管税务机关" in errors(response)
    assert _applicant(client, row, **GOOD, **{"field-tax_office": "乌兰浩特市税务局"}
                      ).status_code == 303
    db.session.refresh(row)
    assert [a["key"] for a in row.answers] == ["change_type", "change_detail", "start_day",
                                               "capital", "tax_office"]
