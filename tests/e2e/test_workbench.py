"""Issue 22, point 1, on a phone: a clerk signs in and lands on 工作台 with the staff tab bar and
counts; 叫号 starts on "请选择窗口"; the chosen window is still chosen at the next sign-in."""


def _sign_in(page) -> None:
    page.goto("/staff/login")
    page.fill("#username", "clerk")
    page.fill("#password", "clerk-demo-2026")
    with page.expect_navigation():
        page.click("button:has-text('登录')")


def test_clerk_lands_on_workbench_and_keeps_the_window(make_phone):
    phone = make_phone()
    page = phone.page
    _sign_in(page)
    assert page.url.endswith("/staff")
    tabs = page.locator("nav.tabbar a")
    assert tabs.all_inner_texts() == ["工作台", "预审", "叫号", "帮办", "我的"]
    for n in range(tabs.count()):
        box = tabs.nth(n).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
    review = page.locator("#entry-applications-review-queue .row-meta").inner_text()
    assert review == "暂无待审" or "件,最久" in review
    assert "等候" in page.locator("#entry-booking-queue").inner_text() or "暂无等候" in (
        page.locator("#entry-booking-queue").inner_text())
    page.screenshot(path="/tmp/22a-workbench.png", full_page=True)

    page.click("nav.tabbar a:has-text('叫号')")
    page.wait_for_url("**/clerk/queue")
    assert page.locator("#window_id option:checked").inner_text() == "请选择窗口"
    page.click("button:has-text('选用')")  # nothing chosen: told so, nothing lost
    assert "请先选择您所在的窗口" in page.content()
    phone.errors.remove("Failed to load resource: the server responded with a status of 400 "
                        "(BAD REQUEST)")  # that answer, as meant
    page.select_option("#window_id", index=1)
    chosen = page.locator("#window_id option:checked").inner_text()
    page.click("button:has-text('选用')")
    page.wait_for_selector("button:has-text('叫下一位')")
    page.screenshot(path="/tmp/22a-queue-window.png", full_page=True)

    other = make_phone()  # the clerk's other phone, a new sign-in
    _sign_in(other.page)
    other.page.goto("/clerk/queue")
    assert other.page.locator("#window_id option:checked").inner_text() == chosen
    phone.assert_clean()
    other.assert_clean()
