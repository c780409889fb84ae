"""Done when: the SMS link from a console message opens the timeline in a WeChat-style browser
without signing in; the same link for another purpose, another record or after expiry does not;
the lookup by number + SMS code works."""

import re
import time
from datetime import timedelta

import pytest

import factories
from app import jobs
from app.core.links import ShortLink, make_link
from app.core.timeutil import utcnow
from app.extensions import db
from app.progress.notify import notify
from app.progress.registry import unregister_matter_kind
from app.sms.models import SmsMessage

LINK_RE = re.compile(r"https?://\S+?/t/[A-Za-z0-9]{12}")


@pytest.fixture
def matters():
    fake = factories.FakeMatters().register()
    yield fake
    unregister_matter_kind(fake.kind)


def _latest_sms(phone) -> str:
    outbox = phone.context.new_page()
    outbox.goto("/dev/outbox")
    text = outbox.locator(".sms-text").first.inner_text()
    outbox.close()
    return text


def _wait_for_code(phone, seconds: float = 30) -> str:
    """The lookup code is sent by a job: with Redis it arrives a moment after the page (longer
    on a busy machine, hence a deadline rather than a count of tries)."""
    deadline = time.monotonic() + seconds
    while True:
        found = re.search(r"验证码(\d{6})", _latest_sms(phone))
        if found:
            return found.group(1)
        if time.monotonic() > deadline:
            raise AssertionError("no lookup code arrived")
        phone.page.wait_for_timeout(100)


def _open(page, path_or_url: str) -> int:
    return page.goto(path_or_url).status


def test_sms_link_lookup_and_refusals(app, live_server, make_phone, matters):
    owner = factories.citizen("13700137000")
    matter = matters.add(owner, steps=["您的办件已提交", "已受理,正在办理"])
    other = matters.add(owner, steps=["另一件办件的进度"])
    with app.test_request_context(base_url=live_server):
        notify("testcase", matter.id, "accepted")
        db.session.commit()
    jobs.flush()

    citizen = make_phone(wechat=True)
    page = citizen.page
    url = LINK_RE.search(_latest_sms(citizen)).group(0)
    assert len(url.split("//", 1)[1]) <= 40
    page.goto(url)
    page.wait_for_url(f"**/progress/testcase/{matter.id}")
    assert page.locator(".progress-step").count() == 2
    assert page.locator(".progress-step").first.inner_text().endswith("已受理,正在办理")
    assert page.locator(".matter-number").inner_text() == matter.number
    assert "登录" in page.locator("main").inner_text()  # not signed in, and not asked to
    citizen.assert_clean()

    # The same link does not open another record.
    assert _open(page, f"/progress/testcase/{other.id}") == 404
    assert "没有找到这条办件" in page.content() and "另一件办件的进度" not in page.content()

    # A link for another purpose does not open progress.
    stranger = make_phone(wechat=True)
    with app.test_request_context(base_url=live_server):
        rate_url = make_link("rate", "testcase", matter.id)
    db.session.commit()
    stranger.page.goto(rate_url)
    assert _open(stranger.page, f"/progress/testcase/{matter.id}") == 404

    # After expiry the link explains itself and offers the lookup.
    db.session.query(ShortLink).update({"expires_at": utcnow() - timedelta(minutes=1)})
    db.session.commit()
    late = make_phone(wechat=True)
    assert _open(late.page, url) == 410
    assert "链接已过期" in late.page.content()
    assert _open(late.page, f"/progress/testcase/{matter.id}") == 404

    # Lookup by number + SMS code, from the expired link's page.
    late.page.goto(url)
    late.page.click("text=按编号查询")
    # The page's scripts first: a tap before they run takes the two-step form, which works too
    # (tests/e2e/test_signin.py) but is not what this test follows.
    late.page.wait_for_url("**/progress/lookup**")
    late.page.wait_for_load_state("load")
    late.page.fill("#number", matter.number)
    late.page.click("button:has-text('获取验证码')")
    late.page.wait_for_selector("#code-status:has-text('验证码已发送')")  # on the same screen
    code = _wait_for_code(late)
    late.page.fill("#code", code)
    late.page.click("button:has-text('查看进度')")
    late.page.wait_for_url(f"**/progress/testcase/{matter.id}")
    assert "已受理,正在办理" in late.page.locator(".progress-timeline").inner_text()


def test_choose_courier_delivery_from_the_timeline(app, live_server, make_phone, matters):
    owner = factories.citizen("13700137000")
    matter = matters.add(owner, steps=["已办结"], completed=True, status=("已办结", "success"))
    with app.test_request_context(base_url=live_server):
        url = make_link("progress", "testcase", matter.id)
    db.session.commit()
    citizen = make_phone(wechat=True, care=True)
    page = citizen.page
    page.goto(url)
    # the link shows the progress; where the results go is the owner's to say, signed in
    page.click("text=本人登录后选择领取方式")
    page.wait_for_url("**/login**")
    page.fill("#phone", "13700137000")
    page.click("text=获取验证码")
    page.wait_for_selector("#code-status:has-text('验证码已发送')")
    message = db.session.query(SmsMessage).filter_by(phone="13700137000").order_by(
        SmsMessage.id.desc()).first()
    page.fill("#code", message.params["code"])
    page.check("input[name=agree]")
    page.click("button:has-text('登录')")
    page.wait_for_url(f"**/progress/testcase/{matter.id}/delivery")
    page.check("input[value=courier]")
    page.click("button:has-text('下一步')")
    page.fill("#delivery-name", "王芳")
    page.fill("#delivery-phone", "13912345678")
    page.fill("#delivery-address", "兴安盟乌兰浩特市和平街 8 号 2 单元 301")
    page.click("button:has-text('下一步')")
    page.wait_for_selector("text=核对领取方式")
    assert "139****5678" in page.content()
    page.click("button:has-text('确认领取方式')")
    page.wait_for_url(f"**/progress/testcase/{matter.id}")
    card = page.locator(f"#delivery-testcase-{matter.id}").inner_text()
    assert "快递送达" in card and "和平街 8 号 2 单元 301" in card
    citizen.assert_clean()


PUSH_STUB = """
(() => {
  const keys = {p256dh: "B" + "A".repeat(86), auth: "AAAAAAAAAAAAAAAAAAAAAA"};
  const subscription = {toJSON: () => ({endpoint: "https://push.example.test/send/abc", keys})};
  let subscribed = null;
  const pushManager = {
    getSubscription: () => Promise.resolve(subscribed),
    subscribe: (options) => {
      window.__pushKeyLength = options.applicationServerKey.length;
      subscribed = subscription;
      return Promise.resolve(subscription);
    },
  };
  Object.defineProperty(navigator, "serviceWorker", {configurable: true, value: {
    register: () => Promise.resolve({}), ready: Promise.resolve({pushManager})}});
  window.PushManager = window.PushManager || function PushManager() {};
})();
"""


def test_push_opt_in_button_stores_the_subscription(app, make_phone):
    from e2e.browser import sign_in

    from app.progress.models import PushSubscription

    keys = {"VAPID_PUBLIC_KEY": "BApwkTNBviww-Xzk5v-coA7rxm-Yo3XoT8MJOSqLafLNldMYKSzbYxMfqoq_05l6"
                                "0wbI9grruEAfbh7lZiNAj98",
            "VAPID_PRIVATE_KEY": "gm94x-fJbosxe-GkoevzDfV6iNFK2np6E-DLmApA5OU",
            "VAPID_SUBJECT": "mailto:zwfw@xam.gov.cn"}
    app.config.update(keys)
    try:
        citizen = make_phone()
        citizen.context.add_init_script(PUSH_STUB)
        sign_in(citizen, "13600136000", "/progress/mine")
        page = citizen.page
        page.click("#push-optin-button")
        page.wait_for_selector("text=已开启消息通知")
        assert page.evaluate("window.__pushKeyLength") == 65  # the raw P-256 public key
        row = db.session.query(PushSubscription).one()
        assert row.endpoint == "https://push.example.test/send/abc"
        citizen.assert_clean()
    finally:
        app.config.update({k: None for k in keys})
