"""Issue 22, point 7, on a phone: the city-wide admin adds a hall (a mistake first, kept and
explained); the hall's admin adds a window serving an item and closes it for today, one tap."""

from sqlalchemy import select

from app.catalog.models import Hall, Window
from app.extensions import db


def _sign_in(page, username: str, password: str) -> None:
    page.goto("/staff/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button:has-text('登录')")


def test_city_adds_a_hall_and_the_hall_admin_runs_its_windows(make_phone):
    city = make_phone()
    c = city.page
    _sign_in(c, "city", "city-demo-2026")
    c.click("#entry-catalog-admin-halls")
    c.click("text=新增大厅")
    c.fill("#f-name", "阿尔山市政务服务中心")
    c.fill("#f-short_name", "阿尔山大厅")
    c.fill("#f-address", "阿尔山市林海街 1 号")
    c.fill("#f-hours", "工作日 8:30-17:00")
    c.fill("#f-phone", "电话号码")
    c.fill("#f-map_url", "https://uri.amap.com/marker?position=119.9,47.2")
    c.fill("#f-area", "阿尔山市")
    c.click("button:has-text('保存')")
    assert "请输入正确的咨询电话" in c.locator(".error-summary").inner_text()
    assert c.input_value("#f-address") == "阿尔山市林海街 1 号"  # kept
    city.errors.clear()  # the 400 of that answer, as meant
    c.fill("#f-phone", "0482-7112345")
    c.click("button:has-text('保存')")
    c.wait_for_selector("text=已新增大厅")
    assert db.session.scalar(select(Hall).where(Hall.short_name == "阿尔山大厅")) is not None
    c.goto("/halls")
    assert c.locator("a:has-text('在地图上查看')").count() >= 1
    city.assert_clean()

    admin = make_phone()
    a = admin.page
    _sign_in(a, "admin", "admin-demo-2026")
    a.click("#entry-catalog-admin-halls")
    assert "阿尔山" not in a.content() and "新增大厅" not in a.content()
    a.locator("a[href$='/windows']").first.click()
    a.click("text=新增窗口")
    a.fill("#f-code", "Z09")
    a.fill("#f-name", "测试窗口")
    a.fill("#f-group", "A")
    a.locator("input[name=item_ids]").first.check()
    box = a.locator("button:has-text('保存')").bounding_box()
    assert box["height"] >= 44
    a.screenshot(path="/tmp/22a-window-form.png", full_page=True)
    a.click("button:has-text('保存')")
    a.wait_for_selector("text=已保存 Z09 号窗口")
    window = db.session.scalar(select(Window).where(Window.code == "Z09"))
    row = a.locator(f"#window-{window.id}")
    assert "今日开放" in row.inner_text()
    row.locator("button:has-text('今日暂停服务')").click()
    a.wait_for_selector(f"#window-{window.id} button:has-text('恢复今日开放')")
    assert "今日暂停" in a.locator(f"#window-{window.id} .badge").inner_text()
    a.screenshot(path="/tmp/22a-windows.png", full_page=True)
    db.session.expire_all()
    assert db.session.get(Window, window.id).closed_on is not None
    admin.assert_clean()
