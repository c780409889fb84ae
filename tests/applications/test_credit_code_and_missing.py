"""Issue 21, point 8: the 统一社会信用代码 field kind; 补交 after 容缺受理 with an upload card."""

import re

import pytest
from applications.application_kit import VALID_ID, photo
from conftest import shanghai
from html_kit import count, errors, text_of, texts, values

from app.applications import decisions
from app.applications.models import Application
from app.applications.states import Status
from app.catalog import fields as form_fields
from app.extensions import db

GOOD_CODE = "91152201MA0N1ABC2D"  # GB 32100-2015: D is its check character


@pytest.fixture
def asking(world):
    world.item.form_fields = form_fields.clean_list([
        {"key": "credit_code", "label": "统一社会信用代码", "kind": "credit_code"}])
    db.session.commit()
    return world


def _started(world) -> Application:
    world.as_citizen()
    response = world.client.post(f"/apply/{world.item.code}")
    return db.session.get(Application, int(re.search(r"/applications/(\d+)/",
                                                     response.location).group(1)))


def _applicant(client, row, code):
    return client.post(f"/applications/{row.id}/applicant", data={
        "name": "张三", "id_number": VALID_ID, "phone": "13800138000", "field-credit_code": code})


@pytest.mark.parametrize("typed, message", [
    ("91152201MA0N1ABC2", "应为 18 位,您填了 17 位"),
    ("91152201MA0N1ABC2X", "校验不通过"),
    ("91152201MA0N1ABCIO", "不含 I、O、Z、S、V"),
])
def test_a_bad_credit_code_is_named_and_kept_as_typed(asking, client, typed, message):
    row = _started(asking)
    response = _applicant(client, row, typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in errors(response)
    assert typed in values(page)


def test_a_good_credit_code_is_kept_in_capitals_without_spaces(asking, client):
    row = _started(asking)
    response = _applicant(client, row, "9115 2201 ma0n 1abc 2d")
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.answers[0]["value"] == GOOD_CODE


def test_admins_can_name_the_kind_in_their_lines():
    lines = "统一社会信用代码|统一社会信用代码\n代码|信用代码|选填"
    fields, errors = form_fields.parse_lines(lines)
    assert errors == [] and [f["kind"] for f in fields] == ["credit_code", "credit_code"]
    assert form_fields.problems(fields[0]) == []


def _accepted_with_missing(world) -> Application:
    row = world.submitted()
    world.as_clerk()
    world.client.post(f"/review/{row.id}/claim")
    data = {f"verdict-{m.id}": "ok" for m in row.materials}
    data.update({f"verdict-{row.materials[2].id}": "missing", "decision": "accept_missing",
                 "due": decisions.max_due(row).isoformat()})
    assert world.client.post(f"/review/{row.id}/decide", data=data).status_code == 303
    db.session.refresh(row)
    assert row.status == Status.ACCEPTED_WITH_MISSING
    world.as_citizen()
    return row


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday morning
def test_the_missing_page_says_how_and_by_when_with_an_upload_card(world, client):
    row = _accepted_with_missing(world)
    page = client.get(f"/applications/{row.id}").get_data(as_text=True)
    due = row.missing_due.strftime("%Y年%m月%d日")
    how = text_of(page, "#missing-how")
    assert texts(page, "#missing-how strong")[0] == due and "怎么补交" in how
    assert "带原件到" in how and row.hall.address in how and "逾期未补齐" in how
    missing = row.materials[2]
    assert "待补交" in text_of(page, f"section.app-material#material-{missing.id}")
    assert count(page, "section.app-material") == 1  # only the missing one
    # the card takes the photo (htmx), and only for the missing material
    assert world.upload(row, 2, photo()).status_code == 200
    assert world.upload(row, 0, photo()).status_code == 409
    page = client.get(f"/applications/{row.id}").get_data(as_text=True)
    assert "已补交 1 张" in page
    db.session.refresh(row)
    assert row.status == Status.ACCEPTED_WITH_MISSING  # the clerk still checks it


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_without_javascript_the_card_comes_back_to_the_page(world, client):
    import io

    row = _accepted_with_missing(world)
    missing = row.materials[2]
    url = f"/applications/{row.id}/materials/{missing.id}/photos"
    response = client.post(url, data={"photo": (io.BytesIO(b"not a photo"), "x.jpg")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "怎么补交" in page and "JPG" in errors(response)
    response = client.post(url, data={"photo": (io.BytesIO(photo()), "x.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert response.location.endswith(f"/applications/{row.id}#material-{missing.id}")
