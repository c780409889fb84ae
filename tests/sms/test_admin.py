"""The admin's message pages: masked list, filters, figures, a message's life, resend."""

from datetime import timedelta

import pytest
from conftest import shanghai
from html_kit import errors, field_value, targets, text_of

import factories
from app import jobs
from app.auth.models import Role
from app.core.timeutil import to_local, utcnow
from app.extensions import db
from app.sms import sending, services
from app.sms.models import SmsMessage, SmsStatus


@pytest.fixture(autouse=True)
def _inline(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)


@pytest.fixture
def admin(auth):
    """A city-wide admin: the SMS log is the city's (a hall admin reads it, see below)."""
    factories.staff("admin1", "admin-pass-1", role=Role.ADMIN)
    auth.login_staff("admin1", "admin-pass-1")


def test_a_hall_admin_reads_the_log_but_the_city_resends(client, auth):
    factories.staff("admin2", "admin-pass-2", role=Role.ADMIN, hall_row=factories.hall())
    auth.login_staff("admin2", "admin-pass-2")
    message = _message()
    page = client.get(f"/staff/sms/{message.id}")
    assert "市级管理员" in text_of(page, "#resend-by-city")
    assert not [to for to in targets(page) if to.endswith("/resend")]
    response = client.post(f"/staff/sms/{message.id}/resend")
    assert response.status_code == 403 and "市级管理员" in errors(response)
    db.session.refresh(message)
    assert message.status == SmsStatus.PERMANENT_FAILURE


def _message(status=SmsStatus.PERMANENT_FAILURE, phone="13812345678", key="m", **kw):
    row = SmsMessage(phone=phone, template="rating_reply", params={"link": "https://x.cn/t/a"},
                     text="【掌上办】您的评价已有答复,请查看:https://x.cn/t/a 感谢您的监督",
                     idempotency_key=key, status=status, **kw)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.parametrize("who", ["anonymous", "citizen", "clerk"])
def test_only_admins_see_messages(client, auth, who):
    message = _message()
    if who == "citizen":
        auth.login_citizen("13800138000")
    elif who == "clerk":
        factories.staff("clerk1", "clerk-pass-1")
        auth.login_staff("clerk1", "clerk-pass-1")
    refused = 302 if who == "anonymous" else 403  # the anonymous are sent to sign in
    for url in ("/staff/sms", f"/staff/sms/{message.id}"):
        response = client.get(url)
        assert response.status_code == refused
    response = client.post(f"/staff/sms/{message.id}/resend")
    assert response.status_code == refused
    assert db.session.get(SmsMessage, message.id).status == SmsStatus.PERMANENT_FAILURE


def test_list_shows_status_reason_and_masks_phone_and_code(client, admin):
    _message(reason="号码为空号")
    code = services.queue_sms("13912345678", "login_code", {"code": "918273"}, key="c")
    db.session.commit()
    jobs.flush()
    page = client.get("/staff/sms").get_data(as_text=True)
    assert "138****5678" in page and "13812345678" not in page and "13912345678" not in page
    assert "号码为空号" in page and "发送失败" in page and "已送达" in page
    detail = client.get(f"/staff/sms/{code.id}").get_data(as_text=True)
    assert "918273" not in detail and "******" in detail and "139****5678" in detail


@pytest.mark.time_machine(shanghai("2026-12-02 12:00"), tick=True)  # not at midnight
def test_filter_by_status_and_day(client, admin):
    _message(key="failed")
    _message(status=SmsStatus.DELIVERED, phone="13800000001", key="ok")
    _message(status=SmsStatus.DELIVERED, phone="13800000002", key="old",
             created_at=utcnow() - timedelta(days=3))
    page = client.get("/staff/sms?status=delivered").get_data(as_text=True)
    assert "138****0001" in page and "138****0002" in page and "138****5678" not in page
    today = to_local(utcnow()).date().isoformat()
    page = client.get(f"/staff/sms?status=delivered&date={today}").get_data(as_text=True)
    assert "138****0001" in page and "138****0002" not in page


def test_bad_filters_are_400_with_a_message_and_keep_what_was_typed(client, admin):
    response = client.get("/staff/sms?date=2026-13-45&status=bogus")
    assert response.status_code == 400
    assert "日期格式应为" in errors(response) and "请选择列表中的状态" in errors(response)
    assert field_value(response, "date") == "2026-13-45"


def test_daily_figures(client, admin):
    _message(key="f1")
    _message(status=SmsStatus.DELIVERED, key="d1", sent_at=utcnow())
    _message(status=SmsStatus.SENDING, key="s1", sent_at=utcnow())
    today = services.daily_figures()[0]
    assert (today.created, today.sent, today.delivered, today.failed) == (3, 2, 1, 1)
    assert len(services.daily_figures()) == 7
    assert "近 7 天" in client.get("/staff/sms").get_data(as_text=True)


def test_a_whole_life_is_visible_queued_sending_delivered(app, client, admin, monkeypatch):
    """Sent through the provider, then delivered by a receipt: each step on the page."""
    from app.sms.providers.base import SendResult

    monkeypatch.setattr(sending, "provider", lambda: type("P", (), {
        "name": "aliyun", "send_batch": lambda self, items: [SendResult("sent", "777", None)]})())
    monkeypatch.setitem(app.config, "SMS_RECEIPT_TOKEN", "t")
    message = services.queue_sms("13812345678", "rating_reply", {"link": "https://x.cn/t/a"},
                                 key="life")
    db.session.commit()
    jobs.flush()
    assert "发送中" in client.get(f"/staff/sms/{message.id}").get_data(as_text=True)
    body = ('[{"biz_id": "777", "success": true, "err_code": "DELIVERED", "out_id": "x",'
            ' "report_time": "2026-11-23 15:20:30", "phone_number": "13812345678"}]')
    assert client.post("/sms/receipts?token=t", data=body, content_type="application/json",
                       csrf=False).status_code == 200
    page = client.get(f"/staff/sms/{message.id}").get_data(as_text=True)
    assert page.index("已送达") < page.index("发送中") < page.rindex("排队中")  # newest first
    assert "通道编号" in page and "777" in page


def test_resend_a_failed_message(client, admin):
    message = _message(reason="通道答复:失败", attempts=1, provider_id="old-1")
    response = client.post(f"/staff/sms/{message.id}/resend")
    assert response.status_code == 303
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.DELIVERED  # console: the new attempt went at once
    assert message.resends == 1 and message.attempts == 1 and message.provider_id != "old-1"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已重新排队发送" in page and "重新发送" not in page


def test_resend_twice_queues_one_attempt(client, admin):
    message = _message()
    services.resend(message.id, actor_id=None)
    with pytest.raises(services.SmsError, match="已在发送队列中"):
        services.resend(message.id, actor_id=None)
    assert db.session.query(jobs.OutboxJob).count() == 1


def test_resend_of_a_delivered_message_is_refused_with_a_reason(client, admin):
    message = _message(status=SmsStatus.DELIVERED)
    response = client.post(f"/staff/sms/{message.id}/resend")
    assert response.status_code == 409 and "不需要重发" in errors(response)


def test_resend_of_an_expired_code_is_refused(client, admin):
    row = SmsMessage(phone="13812345678", template="login_code", params={"code": "111111"},
                     text="【掌上办】验证码111111", idempotency_key="old-code",
                     status=SmsStatus.TECHNICAL_FAILURE, created_at=utcnow() - timedelta(hours=1))
    db.session.add(row)
    db.session.commit()
    response = client.post(f"/staff/sms/{row.id}/resend")
    assert response.status_code == 409 and "验证码已过期" in errors(response)


def test_missing_message_is_404(client, admin):
    assert client.get("/staff/sms/999").status_code == 404
    assert client.post("/staff/sms/999/resend").status_code == 404
