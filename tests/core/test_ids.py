"""Ids that cannot exist are 404, never 500, in the path and in forms (issue 16, class 7)."""

import pytest
import url_kit
from html_kit import errors

import factories
from app.auth.models import Role
from app.extensions import db

HUGE = (2**31, 10**20)  # past PostgreSQL's integer, past SQLite's 64 bits


def _int_rules(app):
    for rule in app.url_map.iter_rules():
        if url_kit.int_args(rule):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


def _signed_in(app, user):
    client = app.test_client()
    factories.sign_in(client, user)
    return client


@pytest.mark.parametrize("value", HUGE)
def test_huge_ids_in_paths_are_404(app, value):
    hall = factories.hall()
    people = [factories.citizen(), factories.staff("city1", "x", Role.ADMIN),
              factories.staff("clerk1", "x", Role.CLERK, hall)]
    db.session.commit()
    checked = 0
    for user in people:
        client = _signed_in(app, user)
        for method, rule in _int_rules(app):
            path = url_kit.path(rule, value)
            response = client.open(path, method=method, data={})
            assert response.status_code == 404, (user.role, method, path, response.status_code)
            checked += 1
    assert checked > 150


def test_huge_ids_in_forms_and_query_strings_are_refused_cleanly(app):
    hall = factories.hall()
    city = _signed_in(app, factories.staff("city1", "x", Role.ADMIN))
    admin = _signed_in(app, factories.staff("admin1", "x", Role.ADMIN, hall))
    clerk = _signed_in(app, factories.staff("clerk1", "x", Role.CLERK, hall))
    citizen = _signed_in(app, factories.citizen())
    big = str(10**20)
    # a hall or record named in the address is not found (404); a person outside the hall is
    # refused (403, as for any stranger); a form naming what is not offered is a bad form (400)
    for client, method, path, data, status in [
            (city, "GET", f"/admin/booking?hall={big}", None, 404),
            (city, "GET", f"/clerk/bookings?hall={big}", None, 404),
            (city, "GET", f"/ratings/dashboard?hall={big}&item={big}&clerk={big}", None, 404),
            (admin, "POST", "/feedback/admin/departments", {"user_id": big}, 403),
            (clerk, "POST", "/clerk/queue/window", {"window_id": big}, 400),
            (citizen, "GET", f"/book/X-1?change={big}", None, 404),
            (citizen, "POST", "/feedback/report", {"item": "X-1", "hall": big,
                                                    "description": "窗口说还要社区证明"}, 400)]:
        response = client.open(path, method=method, data=data or {})
        assert response.status_code == status, (path, response.status_code)


def test_a_number_field_with_a_digit_that_is_no_number_is_a_form_error(app):
    """'²' passes str.isdigit() but not int(): number fields check isdecimal(), so an admin
    typing it gets the field's message (400), not a 500."""
    hall = factories.hall()
    item = factories.item(code="X-1", halls=[hall])
    admin = _signed_in(app, factories.staff("admin1", "x", Role.ADMIN, hall))
    from datetime import time

    from app.booking.models import SlotRule

    rule = SlotRule(hall_id=hall.id, item_id=item.id, weekday=0, start=time(9), end=time(10),
                    capacity=4, window_group="A")
    db.session.add(rule)
    db.session.commit()
    # each typed '²' is refused with its field's message; a '²' as the count of bookings the
    # admin confirmed cancelling is no count (None), and with no bookings nothing needs it
    for path, data, status, message in [
            (f"/admin/booking/rules/{rule.id}/capacity", {"capacity": "²"}, 400, "名额应为"),
            (f"/admin/booking/rules/{rule.id}/capacity", {"capacity": "1", "confirm": "²"},
             303, ""),
            ("/admin/booking/rules", {"item_id": str(item.id), "weekday": "0", "start": "09:00",
                                      "end": "10:00", "slot_minutes": "²", "capacity": "²"},
             400, "每段分钟数应为 5-240 的整数"),
            (f"/admin/catalog/items/{item.id}/edit", {"name": "x", "legal_days": "²"}, 400,
             "法定时限只能填数字")]:
        response = admin.post(path, data=data)
        assert response.status_code == status, (path, data, response.status_code)
        assert message in errors(response), (path, errors(response))
