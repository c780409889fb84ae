"""Citizen sign-in by phone and SMS code; staff sign-in by password."""

from datetime import timedelta

from html_kit import errors, field_value, values

import factories
from app.auth.models import SmsCode, User
from app.core.timeutil import utcnow
from app.extensions import db
from app.sms.models import SmsMessage


def _last_code(phone="13800138000"):
    message = db.session.query(SmsMessage).filter_by(phone=phone).order_by(
        SmsMessage.id.desc()).first()
    return message.params["code"]


def test_sign_in_with_code_creates_the_citizen(client):
    response = client.post("/login/code", data={"phone": "138 0013 8000"})
    assert response.status_code == 303
    assert "/login/verify" in response.headers["Location"]
    code = _last_code()
    assert len(code) == 6 and code.isdigit()
    response = client.post("/login/verify", data={"agree": "1", "code": code, "next": "/me"})
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    page = client.get("/me").get_data(as_text=True)
    assert "138****8000" in page and "13800138000" not in page
    assert db.session.query(User).filter_by(phone="13800138000").count() == 1


def test_malformed_phone_is_400_and_keeps_what_was_typed(client):
    response = client.post("/login/code", data={"phone": "1380013"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请输入正确的 11 位手机号码" in errors(page) and field_value(page, "phone") == "1380013"
    assert db.session.query(SmsMessage).count() == 0


def test_wrong_code_counts_down_then_kills_the_code(client):
    client.post("/login/code", data={"phone": "13800138000"})
    good = _last_code()
    bad = "000000" if good != "000000" else "111111"
    first = client.post("/login/verify", data={"agree": "1", "code": bad})
    assert first.status_code == 400
    assert "还可以再试 2 次" in first.get_data(as_text=True)
    assert bad in values(first)
    client.post("/login/verify", data={"agree": "1", "code": bad})
    third = client.post("/login/verify", data={"agree": "1", "code": bad})
    assert "错误次数过多" in third.get_data(as_text=True)
    dead = client.post("/login/verify", data={"agree": "1", "code": good})
    assert dead.status_code == 400 and "已失效" in errors(dead)


def test_expired_code_is_refused(client):
    client.post("/login/code", data={"phone": "13800138000"})
    code = _last_code()
    db.session.query(SmsCode).update({"expires_at": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    response = client.post("/login/verify", data={"agree": "1", "code": code})
    assert response.status_code == 400 and "验证码已失效" in errors(response)


def test_code_is_single_use_and_bound_to_the_phone(client):
    client.post("/login/code", data={"phone": "13800138000"})
    code = _last_code()
    assert client.post("/login/verify", data={"agree": "1", "code": code}).status_code == 303
    client.post("/logout")
    with client.session_transaction() as session:
        session["login_phone"] = "13800138000"
    assert client.post("/login/verify", data={"agree": "1", "code": code}).status_code == 400
    with client.session_transaction() as session:
        session["login_phone"] = "13900139000"
    assert client.post("/login/verify", data={"agree": "1", "code": code}).status_code == 400


def test_non_digit_code_is_400(client):
    client.post("/login/code", data={"phone": "13800138000"})
    response = client.post("/login/verify", data={"agree": "1", "code": "12ab"})
    assert response.status_code == 400 and "6 位数字" in errors(response)


def test_a_code_without_a_phone_goes_back_to_the_sign_in_page_with_303(client):
    response = client.post("/login/verify", data={"code": "123456", "agree": "1"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_second_code_within_a_minute_is_429_and_keeps_the_phone(client):
    assert client.post("/login/code", data={"phone": "13800138000"}).status_code == 303
    response = client.post("/login/code", data={"phone": "13800138000"})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "太频繁" in errors(page) and field_value(page, "phone") == "13800138000"
    assert db.session.query(SmsMessage).count() == 1


def test_ip_limit_covers_many_phones(client):
    for n in range(20):
        assert client.post("/login/code", data={"phone": f"139{n:08d}"}).status_code == 303
    assert client.post("/login/code", data={"phone": "13712345678"}).status_code == 429


def test_known_and_unknown_numbers_get_the_same_answer(client, app):
    factories.citizen("13800138000")
    known = client.post("/login/code", data={"phone": "13800138000"})
    unknown = app.test_client().post("/login/code", data={"phone": "13900139000"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]


def test_next_is_kept_only_when_it_is_a_local_path(client):
    client.post("/login/code", data={"phone": "13800138000"})
    response = client.post("/login/verify", data={"agree": "1", "code": _last_code(),
                                                   "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_staff_sign_in_and_generic_failure(client):
    hall = factories.hall()
    factories.staff("clerk1", "right-password", hall_row=hall)
    bad = client.post("/staff/login", data={"username": "clerk1", "password": "nope"})
    unknown = client.post("/staff/login", data={"username": "ghost", "password": "nope"})
    assert bad.status_code == unknown.status_code == 400
    assert "用户名或密码不正确" in bad.get_data(as_text=True)
    assert field_value(bad, "username") == "clerk1"
    good = client.post("/staff/login", data={"username": "clerk1", "password": "right-password"})
    assert good.status_code == 303
    assert "窗口工作人员" in client.get("/me").get_data(as_text=True)


def test_staff_lockout_after_repeated_failures(client):
    factories.staff("clerk1", "right-password")
    for _ in range(5):
        client.post("/staff/login", data={"username": "clerk1", "password": "wrong"})
    locked = client.post("/staff/login", data={"username": "clerk1",
                                                "password": "right-password"})
    assert locked.status_code == 400 and "锁定" in errors(locked)
    db.session.query(User).update({"locked_until": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    assert client.post("/staff/login", data={"username": "clerk1",
                                             "password": "right-password"}).status_code == 303


def test_citizen_cannot_use_the_staff_form(client):
    factories.citizen("13800138000")
    response = client.post("/staff/login", data={"username": "13800138000", "password": ""})
    assert response.status_code == 400


def test_logout_ends_the_session(client, auth):
    auth.login_citizen()
    assert client.get("/me").status_code == 200
    assert auth.logout().status_code == 303
    assert client.get("/me").status_code == 302


def test_remember_me_cookie_is_set_httponly_and_lax(client):
    client.post("/login/code", data={"phone": "13800138000"})
    response = client.post("/login/verify", data={"agree": "1", "code": _last_code()})
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "SameSite=Lax" in remember[0]
    session = [c for c in cookies if c.startswith("session=")]
    assert session and "HttpOnly" in session[0] and "SameSite=Lax" in session[0]


def test_the_code_the_citizen_and_the_sign_in_are_one_transaction(client, monkeypatch):
    """Spending the code, making the citizen and starting the sign-in commit together (one
    COMMIT): a failure in between spends nothing, and the code works on the next try."""
    from sqlalchemy import event

    from app.auth import sessions

    client.post("/login/code", data={"phone": "13800138000"})
    code = _last_code()

    def broken(user, keep=None):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sessions, "start", broken)
    monkeypatch.setitem(client.application.config, "PROPAGATE_EXCEPTIONS", False)
    assert client.post("/login/verify", data={"agree": "1", "code": code}).status_code == 500
    monkeypatch.undo()
    assert db.session.query(SmsCode).one().used_at is None
    assert db.session.query(User).filter_by(phone="13800138000").count() == 0
    commits, engine = [], db.engine
    listener = lambda conn: commits.append(conn)  # noqa: E731 - a COMMIT the database receives
    db.session.commit()  # the test's own reads: nothing of theirs is committed during the request
    event.listen(engine, "commit", listener)
    try:
        assert client.post("/login/verify", data={"agree": "1", "code": code}).status_code == 303
    finally:
        event.remove(engine, "commit", listener)
    assert len(commits) == 1
    assert db.session.query(SmsCode).one().used_at is not None


def test_a_code_spent_between_its_check_and_its_spending_is_refused(client, app):
    """Two tries of one code at once: the one whose spending finds it spent already (on SQLite
    FOR UPDATE locks nothing, so both may read it unspent) is refused and signs nobody in."""
    from sqlalchemy import event

    from app.auth.services import AuthError, check_code

    client.post("/login/code", data={"phone": "13800138000"})
    code = _last_code()
    db.session.commit()
    engine, fired = db.engine, []

    def other_try_first(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE sms_code") and not fired:
            fired.append(True)  # the other request spends it, just before this one does
            conn.exec_driver_sql(f"UPDATE sms_code SET used_at = created_at WHERE id = "
                                 f"{db.session.query(SmsCode.id).scalar()}")

    event.listen(engine, "before_cursor_execute", other_try_first)
    try:
        with app.test_request_context():
            try:
                check_code("13800138000", code, "login", commit=False)
                raise AssertionError("the code was spent twice")
            except AuthError as err:
                assert "验证码已失效" in str(err)
    finally:
        event.remove(engine, "before_cursor_execute", other_try_first)
    assert fired and db.session.query(User).filter_by(phone="13800138000").count() == 0
