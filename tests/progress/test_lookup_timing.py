"""Lookups do the same work, so take the same time, for known and unknown numbers and usernames
(issue 16, class 8). The figures themselves are measured by bench/lookup_timing.py; here the work
done before the answer is compared: the same SQL, the same password checks."""

import re
from datetime import timedelta

import pytest
from flask import has_request_context
from sqlalchemy import event

import factories
from app.core.timeutil import utcnow
from app.extensions import db, limiter
from app.sms.models import SmsMessage

UNKNOWN = "WLHT20990101000999"


class Statements:
    """The SQL run while a request is being answered (not after the answer has gone)."""

    def __init__(self):
        self.seen: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, params, context, executemany):
        if has_request_context():
            self.seen.append(re.sub(r"\s+", " ", statement))


def _answer(app, number):
    client = app.test_client()
    with Statements() as seen:
        response = client.post("/progress/lookup", data={"number": number})
    return response, seen


def test_a_lookup_does_the_same_work_before_answering_known_or_not(app, matters, run_jobs):
    matter = matters.add(factories.citizen("13800138000"))
    known, known_sql = _answer(app, matter.number)
    limiter.reset()
    unknown, unknown_sql = _answer(app, UNKNOWN)
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    assert known_sql == unknown_sql and known_sql
    run_jobs()
    # the code still reaches the phone on file, once the answer has gone
    [message] = db.session.query(SmsMessage).filter_by(template="lookup_code").all()
    assert message.phone == "13800138000"


def test_a_wrong_code_is_checked_the_same_way_known_or_not(app, matters, run_jobs):
    matter = matters.add(factories.citizen("13800138000"))
    answers = []
    for number in (matter.number, UNKNOWN):
        limiter.reset()
        client = app.test_client()
        client.post("/progress/lookup", data={"number": number}).close()
        run_jobs()
        with Statements() as seen:
            response = client.post("/progress/lookup/code", data={"code": "000000"})
        answers.append((response.status_code, "还可以再试 2 次" in response.get_data(
            as_text=True), [re.sub(r"'[^']*'", "?", s) for s in seen]))
    assert answers[0] == answers[1] and answers[0][1]
    # the unknown number's code went nowhere
    assert db.session.query(SmsMessage).filter_by(template="lookup_code").count() == 1


@pytest.mark.parametrize("username", ["clerk1", "nobody", "retired", "locked"])
def test_a_staff_sign_in_checks_one_password_whoever_it_names(client, monkeypatch, username):
    import werkzeug.security

    from app.auth import models, services

    factories.staff("clerk1", "secret-pass-1")
    retired = factories.staff("retired", "secret-pass-2")
    retired.active = False
    locked = factories.staff("locked", "secret-pass-3")
    locked.locked_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    checks = []
    real = werkzeug.security.check_password_hash

    def counted(pwhash, password):
        checks.append(pwhash.split("$")[0])
        return real(pwhash, password)

    monkeypatch.setattr(models, "check_password_hash", counted)
    monkeypatch.setattr(services, "check_password_hash", counted, raising=False)
    response = client.post("/staff/login", data={"username": username, "password": "wrong!"})
    assert response.status_code == 400
    assert len(checks) == 1  # the same kind of hash, checked once, known or not
    assert checks[0] == real.__globals__["generate_password_hash"]("x").split("$")[0]
