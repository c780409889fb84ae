"""Done when: a served citizen rates 不满意 from the SMS link on a phone, the hall admin calls and
fixes it on the clock, the citizen sees the reply and rates it, and the figures follow."""

from datetime import timedelta

from e2e.browser import sign_in
from sqlalchemy import select

from app.auth.models import User
from app.catalog.models import Hall, ServiceItem
from app.core.timeutil import to_local, utcnow
from app.extensions import db
from app.ratings import services
from app.sms.models import SmsMessage


def _served_visit(app):
    """What the booking feature does when a visit is served: one call to the contract."""
    hall = db.session.scalar(select(Hall).where(Hall.name == "乌兰浩特市政务服务中心"))
    me = db.session.scalar(select(User).where(User.phone == "13800138000"))
    clerk = db.session.scalar(select(User).where(User.username == "clerk"))
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.code == "HJ-002"))
    with app.test_request_context():
        invite = services.invite(channel="onsite", entity="booking", entity_id=424242,
                                 citizen_id=me.id, served_at=utcnow() - timedelta(minutes=10),
                                 hall_id=hall.id, item_id=item.id, window_id=hall.windows[0].id,
                                 clerk_id=clerk.id, department=item.department)
        db.session.commit()
    message = db.session.scalar(select(SmsMessage).where(
        SmsMessage.template == "rating_invite").order_by(SmsMessage.id.desc()))
    return invite, "/t/" + message.params["link"].rsplit("/t/", 1)[1]


def _figure(page, key):
    return page.locator(f"#figure-{key} strong").inner_text()


def test_bad_rating_from_the_sms_link_to_a_rated_fix(app, make_phone):
    citizen = make_phone()
    admin = make_phone()
    invite, link = _served_visit(app)
    # The figures of the visit's day for this item at this window: what this visit changes,
    # nothing else. Its day, not today's: ten minutes after midnight they differ.
    day = invite.served_day.isoformat()
    dash = (f"/ratings/dashboard?from={day}&to={day}&item={invite.item_id}"
            f"&window={invite.window_id}")

    a = admin.page
    a.goto("/staff/login")
    a.fill("#username", "admin")
    a.fill("#password", "admin-demo-2026")
    a.click("button[type=submit]")
    a.wait_for_load_state()
    a.goto(dash)
    assert _figure(a, "reply_rate") == "—" and _figure(a, "unrated_rate") == "100.0%"

    c = citizen.page
    c.goto(link)  # the SMS link alone grants this one rating: no sign-in
    c.wait_for_url(f"**/ratings/{invite.id}")
    assert c.locator(".faces .face").count() == 5
    c.click(".face-2")
    c.wait_for_url("**/details?score=2**")
    c.click("text=提交评价")
    assert "请选择不满意的原因" in c.locator(".error-summary").inner_text()
    assert citizen.errors == [
        "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]
    citizen.errors.clear()  # the 400 was the point: a bad rating without a reason
    c.click("label:has-text('等候或办理时间太长')")
    c.fill("#reason_text", "排队一个多小时")
    c.click("text=提交评价")
    c.wait_for_url("**/thanks")
    assert c.locator(".reference").inner_text().startswith("PJ")
    assert "1 个工作日内与您联系" in c.content()

    a.goto("/ratings/cases")
    served = to_local(invite.served_at).strftime("%m-%d")
    row = a.locator(".case-row").filter(has_text=f"不满意 · 等候或办理时间太长 · {served}").first
    assert "期限" in row.inner_text()
    row.click()
    a.wait_for_load_state()
    assert "138****8000" in a.locator("#rater").inner_text()
    a.click("#form-contact label:has-text('电话')")
    a.click("#form-contact label:has-text('当场可整改')")
    a.fill("#contact-note", "电话致歉,说明当天窗口人手不足")
    a.fill("#contact-reply", "已电话联系您,对排队时间长表示歉意。")
    a.click("text=保存联系记录")
    a.wait_for_selector("#form-fix")
    a.fill("#fix-note", "高峰时段增开综合窗口")
    a.fill("#fix-reply", "我们已在上午高峰增开一个综合窗口。")
    a.click("text=整改完成")
    a.wait_for_selector("#form-verify")
    a.goto(dash)
    assert _figure(a, "reply_rate") == "100.0%"
    assert _figure(a, "satisfied_rate") == "—"

    sign_in(citizen, "13800138000", "/ratings/mine")  # the replies are the person's own
    c.click("text=评价记录 >> xpath=.. >> .row-link >> nth=0")
    c.wait_for_selector("#case-timeline")
    timeline = c.locator("#case-timeline li").all_inner_texts()
    assert "增开一个综合窗口" in timeline[0] and "表示歉意" in timeline[1]
    c.click("#outcome-form .face-4")
    c.wait_for_selector("text=您对整改结果的评价:满意")

    a.goto(dash)
    assert _figure(a, "satisfied_rate") == "100.0%"
    assert _figure(a, "good_rate") == "0.0%" and _figure(a, "unrated_rate") == "0.0%"
    citizen.assert_clean()
    admin.assert_clean()


def test_rating_in_care_mode_has_larger_faces(app, make_phone):
    phone = make_phone(care=True)
    invite, link = _served_visit(app)
    sign_in(phone, "13800138000", f"/ratings/{invite.id}")
    page = phone.page
    box = page.locator(".face-5").bounding_box()
    assert box["height"] >= 56 and box["width"] > 300  # one big face per row
    page.click(".face-5")  # saved on the tap
    page.wait_for_url("**/thanks")
    assert "还想说说" in page.content()
    phone.assert_clean()
