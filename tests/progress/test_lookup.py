"""一号查询: number + SMS code; the number alone reveals nothing; rate limits; bad codes."""

import re

import pytest
from html_kit import field_value, one, text_of

import factories
from app.extensions import db
from app.sms.models import SmsMessage

CSRF = re.compile(r'"X-CSRFToken": "[^"]+"|name="csrf_token" value="[^"]+"')


def _code(phone: str, run_jobs) -> str:
    run_jobs()  # the code is sent by a job (inline without Redis)
    message = db.session.query(SmsMessage).filter_by(phone=phone).order_by(
        SmsMessage.id.desc()).first()
    assert message.template == "lookup_code"
    return message.params["code"]


def _page(response) -> str:
    return CSRF.sub("", response.get_data(as_text=True))


def test_number_and_code_open_the_timeline(client, matters, run_jobs):
    matter = matters.add(factories.citizen("13800138000"), steps=["已受理,正在办理"])
    response = client.post("/progress/lookup", data={"number": matter.number.lower()})
    assert response.status_code == 303 and response.headers["Location"] == "/progress/lookup/code"
    response = client.post("/progress/lookup/code", data={"code": _code("13800138000", run_jobs)})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/progress/testcase/{matter.id}"
    assert "已受理,正在办理" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_unknown_number_gets_the_same_answer_and_no_sms(app, matters, run_jobs):
    matter = matters.add(factories.citizen("13800138000"))
    answers = []
    for number in (matter.number, "WLHT20990101000999"):
        client = app.test_client()
        sent = client.post("/progress/lookup", data={"number": number})
        run_jobs()
        page = client.get(sent.headers["Location"])
        wrong = [client.post("/progress/lookup/code", data={"code": "000000"}) for _ in range(4)]
        answers.append((sent.status_code, sent.headers["Location"], page.status_code, _page(page),
                        [(w.status_code, _page(w)) for w in wrong]))
    assert answers[0] == answers[1]
    assert db.session.query(SmsMessage).count() == 1  # only the real number's code
    # each field error's own words, without the "错误:" read out to screen readers before them
    messages = ["".join(one(body, "p.field-error").find_all(string=True, recursive=False))
                for _, body in answers[1][4]]
    assert messages == ["验证码不正确,还可以再试 2 次", "验证码不正确,还可以再试 1 次",
                        "验证码错误次数过多,请重新获取", "验证码已失效,请重新获取"]


def test_malformed_number_is_400_and_kept(client, matters):
    response = client.post("/progress/lookup", data={"number": "查<b>一下"})
    assert response.status_code == 400
    assert "请输入正确的办件编号或预约号" in text_of(response, ".field-error")
    assert field_value(response, "number") == "查<b>一下"
    assert db.session.query(SmsMessage).count() == 0


def test_wrong_code_is_400_and_does_not_open(client, matters, run_jobs):
    matter = matters.add(factories.citizen("13800138000"), steps=["不应显示"])
    client.post("/progress/lookup", data={"number": matter.number})
    response = client.post("/progress/lookup/code", data={"code": "12ab"})
    assert response.status_code == 400
    assert "请输入 6 位数字验证码" in text_of(response, ".field-error")
    real = _code("13800138000", run_jobs)
    wrong = "000000" if real != "000000" else "111111"
    response = client.post("/progress/lookup/code", data={"code": wrong})
    assert response.status_code == 400 and "验证码不正确" in text_of(response, ".field-error")
    assert client.get(f"/progress/testcase/{matter.id}").status_code == 404


def test_code_page_without_a_number_goes_back(client):
    response = client.get("/progress/lookup/code")
    assert response.status_code == 303 and response.headers["Location"] == "/progress/lookup"


def test_expired_code_state_is_refused(app, client, matters, run_jobs):
    matter = matters.add(factories.citizen("13800138000"))
    client.post("/progress/lookup", data={"number": matter.number})
    code = _code("13800138000", run_jobs)
    app.config["SMS_CODE_TTL_SECONDS"] = -1
    try:
        response = client.post("/progress/lookup/code", data={"code": code})
    finally:
        app.config["SMS_CODE_TTL_SECONDS"] = 300
    assert response.status_code == 400 and "验证码已失效" in text_of(response, ".field-error")


def test_lookup_grant_opens_only_that_record(client, matters, run_jobs):
    owner = factories.citizen("13800138000")
    matter, other = matters.add(owner), matters.add(owner)
    client.post("/progress/lookup", data={"number": matter.number})
    client.post("/progress/lookup/code", data={"code": _code("13800138000", run_jobs)})
    assert client.get(f"/progress/testcase/{matter.id}").status_code == 200
    assert client.get(f"/progress/testcase/{other.id}").status_code == 404


@pytest.fixture
def limits(app):
    saved = {k: app.config.get(k) for k in ("LOOKUP_LIMITS_PER_NUMBER", "LOOKUP_LIMITS_PER_IP",
                                            "LOOKUP_CHECKS_PER_IP", "LOOKUP_CHECKS_PER_NUMBER")}
    yield app.config
    app.config.update(saved)


def test_too_many_lookups_for_one_number(client, matters, limits):
    limits["LOOKUP_LIMITS_PER_NUMBER"] = "2/hour"
    for _ in range(2):
        assert client.post("/progress/lookup", data={"number": "WLHT2026000001"}).status_code == 303
    response = client.post("/progress/lookup", data={"number": "WLHT2026000001"})
    assert response.status_code == 429 and "查询太频繁" in text_of(response, ".field-error")
    assert field_value(response, "number") == "WLHT2026000001"
    assert client.post("/progress/lookup", data={"number": "WLHT2026000002"}).status_code == 303


def test_too_many_lookups_from_one_address(client, matters, limits):
    limits["LOOKUP_LIMITS_PER_IP"] = "3/hour"
    for n in range(3):
        assert client.post("/progress/lookup", data={"number": f"WLHT202600000{n}"}
                           ).status_code == 303
    response = client.post("/progress/lookup", data={"number": "WLHT2026000009"})
    assert response.status_code == 429 and "查询太频繁" in text_of(response, ".field-error")


def test_too_many_code_checks(client, matters, limits):
    limits["LOOKUP_CHECKS_PER_IP"] = "2/hour"
    client.post("/progress/lookup", data={"number": "WLHT2026000001"})
    for _ in range(2):
        assert client.post("/progress/lookup/code", data={"code": "123456"}).status_code == 400
    response = client.post("/progress/lookup/code", data={"code": "123456"})
    assert response.status_code == 429 and "尝试次数过多" in text_of(response, ".field-error")


def test_too_many_code_checks_for_one_number(app, matters, limits):
    limits.update(LOOKUP_CHECKS_PER_NUMBER="2/hour", LOOKUP_LIMITS_PER_NUMBER="100/hour")
    statuses = []
    for _ in range(3):
        client = app.test_client()  # a fresh browser each time: only the number is shared
        client.post("/progress/lookup", data={"number": "WLHT2026000001"})
        statuses.append(client.post("/progress/lookup/code", data={"code": "123456"}).status_code)
    assert statuses == [400, 400, 429]


def test_known_and_unknown_numbers_queue_the_same_job(client, matters, run_jobs):
    from app.jobs import OutboxJob
    from app.progress.jobs import lookup_code

    matter = matters.add(factories.citizen("13800138000"))
    for number in (matter.number, "WLHT20990101000999"):
        client.post("/progress/lookup", data={"number": number})
    run_jobs()
    rows = db.session.query(OutboxJob).filter_by(name="progress.lookup_code").order_by(
        OutboxJob.id).all()
    assert [row.args for row in rows] == [[matter.number], ["WLHT20990101000999"]]
    assert lookup_code("WLHT20990101000999") == "unknown number"
