"""A refusal is a Chinese page (or htmx fragment) with a 4xx that says why, changes nothing, and
leaves a log line naming the rule that refused (issue 16, "Bad input")."""

import logging

import pytest
from html_kit import errors, is_fragment

import factories
from app.auth.models import Role
from app.booking.models import SlotRule


@pytest.fixture
def places():
    a, b = factories.hall(short_name="甲厅"), factories.hall(short_name="乙厅")
    item = factories.item(halls=[a, b])
    return a, b, item


def _as(app, user):
    client = app.test_client()
    factories.sign_in(client, user)
    return client


@pytest.mark.parametrize("who, path, rule, words", [
    ("citizen", "/staff", "staff_only", "请先用本人手机号登录"),
    ("clerk", "/admin/booking", "role", "不在您的角色范围内"),
    ("far_admin", "/admin/booking/rules/{rule}/capacity", "hall", "属于其他大厅"),
    ("admin", "/staff/sms/999/resend", None, "页面或记录不存在"),
])
def test_each_refusal_says_why_and_logs_its_rule(app, places, caplog, who, path, rule, words):
    from datetime import time

    from app.extensions import db

    a, b, item = places
    row = SlotRule(hall_id=a.id, item_id=item.id, weekday=1, start=time(9), end=time(10))
    db.session.add(row)
    db.session.commit()
    people = {"citizen": factories.citizen(), "clerk": factories.staff("c1", "x", Role.CLERK, a),
              "admin": factories.staff("a1", "x", Role.ADMIN, a),
              "far_admin": factories.staff("a2", "x", Role.ADMIN, b)}
    client = _as(app, people[who])
    caplog.set_level(logging.INFO, logger="app.core.access")
    method = "post" if path.endswith(("capacity", "resend")) else "get"
    response = getattr(client, method)(path.format(rule=row.id), data={"capacity": "9"})
    page = response.get_data(as_text=True)
    assert response.status_code == (404 if rule is None else 403)
    assert words in page
    db.session.refresh(row)
    assert row.capacity == 4
    if rule:
        assert any(getattr(r, "access_rule", None) == rule for r in caplog.records), rule


def test_an_htmx_refusal_is_a_fragment(app, places):
    client = _as(app, factories.citizen())
    response = client.get("/staff", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and is_fragment(page) and "没有权限" in errors(page)
