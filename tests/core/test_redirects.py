"""One safe-redirect function: a same-site path or the default page (issue 16, class 6)."""

import pytest

import factories
from app.core.redirects import safe_target
from app.sms.models import SmsMessage

OFF_SITE = ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\r/evil.example",
            "/ /evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
            "http:/evil.example", "javascript:alert(1)", "/\x00/evil.example",
            "/\u3000/evil.example", "evil.example", "/ok//evil.example", "/\x7f/evil.example",
            "", None, "/" + "a" * 2100]
SAME_SITE = ["/", "/me", "/services?q=户口", "/applications/3/supplement#m2", "/book/HJ-001"]


@pytest.mark.parametrize("target", OFF_SITE, ids=repr)
def test_off_site_or_odd_targets_give_the_default(target):
    assert safe_target(target, "/home") == "/home"


@pytest.mark.parametrize("target", SAME_SITE)
def test_same_site_paths_are_kept(target):
    assert safe_target(target) == target


SNEAKY = "/\t/evil.example"


def _location(response, status=303) -> str:
    """Where a redirect goes: a form post answers 303 (see other), a page to skip 302."""
    assert response.status_code == status, response.status_code
    return response.headers["Location"]


def test_citizen_sign_in_refuses_a_sneaky_next(client):
    client.post("/login/code", data={"phone": "13800138000", "next": SNEAKY})
    code = SmsMessage.query.order_by(SmsMessage.id.desc()).first().params["code"]
    response = client.post("/login/verify", data={"agree": "1", "code": code, "next": SNEAKY})
    assert _location(response) == "/"
    # signed in, the login page sends them on: not off-site either
    assert _location(client.get("/login", query_string={"next": SNEAKY}), 302) == "/"


def test_staff_sign_in_refuses_a_sneaky_next(client):
    factories.staff("clerk1", "secret-pass-1")
    response = client.post("/staff/login", data={"username": "clerk1",
                                                 "password": "secret-pass-1", "next": SNEAKY})
    assert _location(response) == "/staff"  # staff land on 工作台


def test_care_switch_refuses_a_sneaky_next(client):
    assert _location(client.post("/care", data={"next": SNEAKY})) == "/"
