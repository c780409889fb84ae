"""In a real browser: an expired form is not sent for the person, what they typed comes back on
the page to check and send; signing out everywhere; a hall admin sees the city's records
read-only (issue 16)."""

from e2e.browser import sign_in
from sqlalchemy import func, select

from app.extensions import db
from app.feedback.models import UnresolvedReport

TYPED = "窗口说还要社区证明,之前没告知,已经跑了两趟"


def _reports() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(UnresolvedReport).where(
        UnresolvedReport.description == TYPED))


def _staff(phone, username, password, next_path="/staff"):
    page = phone.page
    page.goto(f"/staff/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"**{next_path}")


def test_an_expired_form_comes_back_filled_and_is_sent_by_the_person(phone):
    sign_in(phone, "13800138000", "/feedback/report?item=BDC-001")
    page = phone.page
    page.check("input[name=hall] >> nth=0")
    page.fill("#description", TYPED)
    # the token went stale (the page sat open for hours): the server refuses the request
    page.evaluate("document.querySelectorAll('input[name=csrf_token]')"
                  ".forEach(e => e.value = 'stale')")
    page.click("button:has-text('提交反映')")
    page.wait_for_selector("text=页面已过期")
    assert "重新提交" not in page.content()
    assert _reports() == 0  # nothing was done
    page.click("#csrf-back")
    page.wait_for_selector("#restore-form:not([hidden])")
    assert page.input_value("#description") == TYPED
    assert page.is_checked("input[name=hall] >> nth=0")
    assert _reports() == 0  # still nothing, until...
    page.click("button:has-text('提交反映')")
    page.wait_for_url("**/feedback/reports/*")
    assert _reports() == 1
    phone.errors = [e for e in phone.errors if "400 (BAD REQUEST)" not in e]  # the refusal
    phone.assert_clean()


def test_sign_out_everywhere_from_the_me_page(make_phone):
    laptop, mobile = make_phone(), make_phone()
    _staff(laptop, "clerk", "clerk-demo-2026", "/me")
    _staff(mobile, "clerk", "clerk-demo-2026", "/me")
    laptop.page.click("button:has-text('退出所有设备')")
    laptop.page.wait_for_url("**/")
    mobile.page.goto("/staff")
    mobile.page.wait_for_url("**/staff/login**")
    laptop.assert_clean()


def test_a_hall_admin_sees_shared_items_read_only(phone):
    _staff(phone, "admin", "admin-demo-2026", "/admin/catalog")
    page = phone.page
    row = page.locator(".row-link", has_text="新生儿出生登记")  # both demo halls handle it
    assert "多馆共用" in row.inner_text()
    row.click()
    page.wait_for_selector("text=这个事项由几个大厅共用,只能查看")
    assert page.locator("a:has-text('修改')").count() == 0
    phone.assert_clean()


def test_the_second_halls_clerk_is_kept_to_their_hall(make_phone):
    """The demo's clerk2 (科尔沁右翼前旗) stays in their hall; the city-wide admin picks one."""
    far = make_phone(care=True)
    _staff(far, "clerk2", "clerk2-demo-2026", "/staff")
    response = far.page.goto("/admin/booking")
    assert response.status == 403 and "角色" in far.page.content()
    response = far.page.goto("/clerk/bookings?hall=1")  # a hall picked by hand: their own shown
    assert response.status == 200 and "科右前旗" in far.page.content()
    assert "乌兰浩特市大厅" not in far.page.content()
    city = make_phone()
    _staff(city, "city", "city-demo-2026", "/staff")
    city.page.goto("/clerk/bookings")
    city.page.select_option("#hall", label="科尔沁右翼前旗政务服务中心")
    city.page.click("button:has-text('切换')")
    city.page.wait_for_url("**hall=*")
    assert "科右前旗" in city.page.locator(".page-title").first.inner_text()
    city.assert_clean()
