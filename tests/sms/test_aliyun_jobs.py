"""The sending job against the fake Aliyun API: every bad answer ends in the right status."""

from datetime import timedelta

import pytest
from fakes.aliyun_sms import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun, provider_settings
from sqlalchemy import select

from app import jobs
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import JobStatus, OutboxJob
from app.sms import sending, services
from app.sms.models import SmsMessage, SmsStatus

TOKEN = "receipt-token-aliyun"
CLOCK = [utcnow()]  # the app's clock in these tests; _later() moves it


@pytest.fixture(scope="module")
def server():
    with FakeAliyun() as fake:
        yield fake


@pytest.fixture
def fake(server, app, monkeypatch):
    server.reset()
    monkeypatch.setitem(app.config, "REDIS_URL", None)  # inline jobs; the sweep runs retries
    monkeypatch.setitem(app.config, "SMS_BACKEND", "aliyun")
    monkeypatch.setitem(app.config, "ALIYUN_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setitem(app.config, "ALIYUN_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
    monkeypatch.setitem(app.config, "SMS_TIMEOUT", 2.0)
    monkeypatch.setitem(app.config, "SMS_RECEIPT_TOKEN", TOKEN)
    for key, value in provider_settings(server.url).items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setattr(services, "utcnow", lambda: CLOCK[0])
    monkeypatch.setattr(sending, "utcnow", lambda: CLOCK[0])
    monkeypatch.setattr(jobs, "utcnow", lambda: CLOCK[0])
    CLOCK[0] = utcnow()
    return server  # sending.provider() builds a provider again from these settings


def _queue(phone="13800138000", template="rating_reply", key="k1", params=None):
    message = services.queue_sms(phone, template, params or {"link": "https://x.cn/t/a"},
                                 key=key)
    db.session.commit()
    jobs.flush()
    return db.session.get(SmsMessage, message.id)


def _later(seconds: float) -> None:
    """Move the clock on, and run what the sweep then finds due."""
    CLOCK[0] += timedelta(seconds=seconds)
    jobs.sweep()


def _receipt(client, body):
    return client.post(f"/sms/receipts?token={TOKEN}", data=body,
                       content_type="application/json", csrf=False)


def test_sent_through_aliyun_then_delivered_by_its_receipt(client, fake):
    message = _queue()
    assert message.status == SmsStatus.SENDING and message.sent_at is not None
    assert message.provider_id == fake.sent[0]["biz_id"]
    assert fake.sent[0]["params"] == {"link": "https://x.cn/t/a"}
    response = _receipt(client, fake.receipts())
    assert response.json == {"code": 0, "msg": "成功", "applied": 1, "ignored": 0}
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.DELIVERED and message.delivered_at is not None
    assert _receipt(client, fake.receipts()).json["ignored"] == 1  # the push repeated


def test_an_undeliverable_receipt_is_a_permanent_failure(client, fake):
    message = _queue()
    _receipt(client, fake.receipts(success=False, err_code="MK:0001"))
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.PERMANENT_FAILURE and "MK:0001" in message.reason


def test_the_job_run_twice_sends_once(fake):
    message = _queue()
    job = db.session.scalar(select(OutboxJob))
    sending.send(message.id)  # RQ delivering the same job again
    db.session.get(OutboxJob, job.id).status = JobStatus.PENDING  # the sweep pushing it again
    db.session.commit()
    _later(1)
    assert len(fake.sent) == 1


def test_throttling_is_a_temporary_failure_then_retried(fake):
    fake.script("throttle")
    message = _queue()
    assert message.status == SmsStatus.TEMPORARY_FAILURE
    assert "频率限制" in message.reason and "将自动重试" in message.reason
    assert fake.sent == []
    _later(11)
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.SENDING and len(fake.sent) == 1


def test_api_throttling_too(fake):
    fake.script("throttle_api")
    message = _queue()
    assert message.status == SmsStatus.TEMPORARY_FAILURE and "过于频繁" in message.reason


@pytest.mark.parametrize("answer, words", [("error500", "HTTP 500"), ("error503", "HTTP 503"),
                                           ("garbage", "无法识别")])
def test_provider_errors_are_technical_failures_then_retried(fake, answer, words):
    fake.script(answer)
    message = _queue()
    assert message.status == SmsStatus.TECHNICAL_FAILURE and words in message.reason
    _later(11)
    assert db.session.get(SmsMessage, message.id).status == SmsStatus.SENDING
    assert len(fake.sent) == 1


def test_provider_errors_end_in_a_visible_failure(app, fake):
    intervals = app.config["JOB_RETRY_INTERVALS"]
    fake.script(*["error500"] * (len(intervals) + 1))
    message = _queue()
    for seconds in intervals:
        _later(seconds + 1)
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.TECHNICAL_FAILURE and message.next_retry_at is None
    assert "不再重试" in message.reason and message.attempts == len(intervals) + 1
    assert db.session.query(OutboxJob).filter_by(status=JobStatus.FAILED).count() == 0


def _timed_out(app, fake, monkeypatch, **queue):
    """A message whose call timed out, and which the fake then took anyway (as Aliyun may)."""
    monkeypatch.setitem(app.config, "SMS_TIMEOUT", 0.2)
    fake.script("slow")  # held by the fake until released: the timeout fires however busy we are
    message = _queue(**queue)
    fake.wait_held()
    fake.release()
    fake.settle()
    _patient(app, monkeypatch)
    return db.session.get(SmsMessage, message.id)


def _patient(app, monkeypatch) -> None:
    """The fixture's timeout again, once the held call has timed out: the retries' lookups and
    sends must not time out too (at 0.2 s a busy machine's fake answered too late, and a test
    that expected a failure the lookup found read a timeout instead)."""
    monkeypatch.setitem(app.config, "SMS_TIMEOUT", 2.0)  # sending.provider() is built again


def test_a_timeout_is_a_technical_failure_that_says_it_may_have_gone(app, fake, monkeypatch):
    message = _timed_out(app, fake, monkeypatch)
    assert message.status == SmsStatus.TECHNICAL_FAILURE
    assert "超时" in message.reason and "可能已发出" in message.reason
    assert len(fake.sent) == 1  # and indeed it went, late


def test_the_retry_after_a_timeout_asks_aliyun_and_sends_nothing_again(
        app, client, fake, monkeypatch):
    message = _timed_out(app, fake, monkeypatch)
    _later(11)
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.SENDING and message.sent_at is not None
    assert len(fake.sent) == 1
    assert [c["action"] for c in fake.calls] == ["SendSms", "QuerySendDetails"]
    assert not db.session.scalars(select(OutboxJob).where(
        OutboxJob.status == JobStatus.PENDING)).all()  # no further retry waits
    # Its receipt still finds it, by the OutId, although no BizId came back.
    assert _receipt(client, fake.receipts()).json["applied"] == 1
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.DELIVERED and message.provider_id == fake.sent[0]["biz_id"]


def test_a_retry_finds_a_delivered_or_failed_message_in_aliyuns_records(
        app, fake, monkeypatch):
    delivered = _timed_out(app, fake, monkeypatch)
    fake.delivered("13800138000")
    failed = _timed_out(app, fake, monkeypatch, phone="13900139000", key="k2")
    fake.delivered("13900139000", success=False, err_code="MK:0005")
    _later(11)
    assert db.session.get(SmsMessage, delivered.id).status == SmsStatus.DELIVERED
    failed = db.session.get(SmsMessage, failed.id)
    assert failed.status == SmsStatus.PERMANENT_FAILURE and "MK:0005" in failed.reason
    assert len(fake.sent) == 2


def test_a_retry_sends_when_aliyun_has_nothing(app, fake, monkeypatch):
    fake.script("error500")  # refused: it never went
    message = _queue()
    _later(11)
    assert db.session.get(SmsMessage, message.id).status == SmsStatus.SENDING
    actions = [c["action"] for c in fake.calls]
    assert actions[0] == actions[-1] == "SendSms" and actions.count("SendSms") == 2
    assert set(actions[1:-1]) == {"QuerySendDetails"}  # today's records, then the day before
    assert len(fake.sent) == 1


def test_a_retry_waits_when_aliyun_cannot_say(app, fake, monkeypatch):
    message = _timed_out(app, fake, monkeypatch)
    fake.script("error503")  # the lookup fails: sending now could send it twice
    _later(11)
    message = db.session.get(SmsMessage, message.id)
    assert message.status == SmsStatus.TECHNICAL_FAILURE and "无法向阿里云确认" in message.reason
    assert "将自动重试" in message.reason and len(fake.sent) == 1
    _later(61)  # the next retry can ask, and finds it
    assert db.session.get(SmsMessage, message.id).status == SmsStatus.SENDING
    assert len(fake.sent) == 1


def test_a_batch_that_timed_out_is_not_sent_again_message_by_message(app, fake, monkeypatch):
    """A batch call times out and Aliyun takes it anyway: each message's retry finds it under
    the batch's OutId."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("only PostgreSQL batches queued messages (SKIP LOCKED claims)")
    monkeypatch.setitem(app.config, "SMS_TIMEOUT", 0.2)
    phones = ["13800138000", "13900139000", "13700137000"]
    rows = [services.queue_sms(p, "rating_reply", {"link": "https://x.cn/t/a"}, key=f"b{p}")
            for p in phones]
    db.session.commit()
    ids = [row.id for row in rows]
    fake.script("slow")
    sending.send(ids[0])  # the first one's job claims the other two with it
    fake.wait_held()
    fake.release()
    fake.settle()
    _patient(app, monkeypatch)
    assert [c["action"] for c in fake.calls] == ["SendBatchSms"] and len(fake.sent) == 3
    rows = [db.session.get(SmsMessage, i) for i in ids]
    assert {r.status for r in rows} == {SmsStatus.TECHNICAL_FAILURE}
    assert len({r.batch_out_id for r in rows}) == 1 and rows[0].batch_out_id.startswith("batch-")
    _later(11)
    assert {db.session.get(SmsMessage, i).status for i in ids} == {SmsStatus.SENDING}
    assert len(fake.sent) == 3 and [c["action"] for c in fake.calls].count("SendSms") == 0


def test_a_number_the_provider_rejects_is_a_permanent_failure(fake):
    message = _queue(phone="10000000000")
    assert message.status == SmsStatus.PERMANENT_FAILURE
    assert "手机号码格式不正确" in message.reason
    _later(3600)
    assert [call["code"] for call in fake.calls] == ["isv.MOBILE_NUMBER_ILLEGAL"]  # not retried


def test_a_template_without_an_aliyun_code_is_a_permanent_failure(app, fake, monkeypatch):
    monkeypatch.setitem(app.config, "ALIYUN_SMS_TEMPLATES", '{"login_code": "SMS_1"}')
    message = _queue()
    assert message.status == SmsStatus.PERMANENT_FAILURE
    assert "ALIYUN_SMS_TEMPLATES" in message.reason
    assert fake.calls == []


def test_a_provider_that_cannot_be_built_is_a_technical_failure(app, fake, monkeypatch):
    monkeypatch.setitem(app.config, "ALIYUN_ACCESS_KEY_SECRET", None)
    message = _queue()
    assert message.status == SmsStatus.TECHNICAL_FAILURE
    assert "ALIYUN_ACCESS_KEY_SECRET" in message.reason


def test_a_wrong_secret_is_a_technical_failure(app, fake, monkeypatch):
    monkeypatch.setitem(app.config, "ALIYUN_ACCESS_KEY_SECRET", "not-the-secret")
    message = _queue()
    assert message.status == SmsStatus.TECHNICAL_FAILURE and "签名不匹配" in message.reason
    assert fake.sent == []


def test_a_batch_goes_in_one_call_and_receipts_find_each_message(client, fake):
    ids = [services.queue_sms(f"1390000000{n}", "rating_reply", {"link": f"https://x.cn/t/{n}"},
                              key=f"b{n}").id for n in range(4)]
    db.session.commit()
    db.session.info.pop("outbox_new", None)
    jobs.g.pop("outbox_ready", None)  # hold the pushes, as when a worker is busy
    sending.send(ids[0])
    batched = db.session.get_bind().dialect.name == "postgresql"
    if batched:
        assert [(c["action"], c["count"]) for c in fake.calls] == [("SendBatchSms", 4)]
    for job in db.session.scalars(select(OutboxJob)).all():
        jobs.execute(job.id)
    assert sorted(r["phone"] for r in fake.sent) == [f"1390000000{n}" for n in range(4)]
    assert _receipt(client, fake.receipts()).json["applied"] == 4
    assert {m.status for m in db.session.scalars(select(SmsMessage))} == {SmsStatus.DELIVERED}
