"""One phone, one set of code limits (issue 22, point 6): sign-in's per-phone limits count every
code sent to a phone, whatever it is for (sign-in, 一号查询, linking a provider account)."""

import pytest
from html_kit import errors, values

import factories
from app.auth.models import SmsCode
from app.extensions import db
from app.sms.models import SmsMessage

PHONE = "13800138000"


def _codes(phone=PHONE) -> list[str]:
    return [m.template for m in db.session.query(SmsMessage).filter_by(phone=phone).order_by(
        SmsMessage.id)]


@pytest.fixture
def matters():
    from app.progress.registry import unregister_matter_kind

    fake = factories.FakeMatters().register()
    yield fake
    unregister_matter_kind(fake.kind)


def test_lookups_of_several_numbers_send_one_code_a_minute(app, matters, run_jobs):
    owner = factories.citizen(PHONE)
    numbers = [matters.add(owner).number for _ in range(4)]
    for number in numbers:  # the report: 4 codes to one phone in 17 s, one per record number
        answer = app.test_client().post("/progress/lookup", data={"number": number})
        assert answer.status_code == 303  # the page says the same, limited or not
    run_jobs()
    assert _codes() == ["lookup_code"]


def test_a_lookup_code_keeps_the_code_already_sent(client, matters, run_jobs):
    owner = factories.citizen(PHONE)
    first, second = matters.add(owner), matters.add(owner)
    client.post("/progress/lookup", data={"number": first.number})
    run_jobs()
    code = db.session.query(SmsMessage).one().params["code"]
    app_client = client.application.test_client()
    app_client.post("/progress/lookup", data={"number": second.number})
    run_jobs()
    assert db.session.query(SmsCode).filter_by(purpose="lookup").count() == 1
    response = client.post("/progress/lookup/code", data={"code": code})
    assert response.status_code == 303 and str(first.id) in response.headers["Location"]


def test_sign_in_after_a_lookup_code_is_limited(client, matters, run_jobs):
    matter = matters.add(factories.citizen(PHONE))
    client.application.test_client().post("/progress/lookup", data={"number": matter.number})
    run_jobs()
    response = client.post("/login/code", data={"phone": PHONE})
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "获取验证码太频繁" in errors(response)
    assert PHONE in values(page)
    assert _codes() == ["lookup_code"]


def test_a_lookup_after_a_sign_in_code_sends_none(client, matters, run_jobs):
    matter = matters.add(factories.citizen(PHONE))
    assert client.post("/login/code", data={"phone": PHONE}).status_code == 303
    assert client.post("/progress/lookup", data={"number": matter.number}).status_code == 303
    run_jobs()
    assert _codes() == ["login_code"]
    from app.progress.services import send_lookup_code

    assert send_lookup_code(matter.number) == "phone limit reached"


def test_another_phone_is_not_held_back(client, matters, run_jobs):
    assert client.post("/login/code", data={"phone": PHONE}).status_code == 303
    matter = matters.add(factories.citizen("13900139000"))
    client.post("/progress/lookup", data={"number": matter.number})
    run_jobs()
    assert _codes("13900139000") == ["lookup_code"]


def test_the_hourly_limit_counts_every_purpose(app, matters, run_jobs):
    saved = app.config["SMS_LIMITS_PER_PHONE"]
    app.config["SMS_LIMITS_PER_PHONE"] = "10/minute;3/hour"
    try:
        owner = factories.citizen(PHONE)
        app.test_client().post("/login/code", data={"phone": PHONE})
        for _ in range(2):
            app.test_client().post("/progress/lookup", data={"number": matters.add(owner).number})
            run_jobs()
        assert app.test_client().post("/login/code", data={"phone": PHONE}).status_code == 429
    finally:
        app.config["SMS_LIMITS_PER_PHONE"] = saved
    assert _codes() == ["login_code", "lookup_code", "lookup_code"]


def test_one_limit_function_for_every_code(monkeypatch, app):
    """Sign-in, lookup and account linking all spend through spend_phone_code, not a copy."""
    from app.auth import services

    spent = []
    monkeypatch.setattr(services, "spend_phone_code", lambda phone: spent.append(phone) or False)
    for purpose in ("login", "lookup", "link"):
        with pytest.raises(services.TooManyCodes):
            services.issue_code(PHONE, purpose)
    services.issue_code("x0000000000", "lookup", send=False)  # a decoy is sent to nobody
    assert spent == [PHONE] * 3
    assert db.session.query(SmsCode).count() == 1
