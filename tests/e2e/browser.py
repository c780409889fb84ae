"""Helpers for browser tests."""


def sign_in(phone, number: str = "13800138000", next_path: str = "/me") -> None:
    """Sign in with the code shown in the dev outbox, as a developer would."""
    page = phone.page
    page.goto(f"/login?next={next_path}")
    page.fill("#phone", number)
    page.click("text=获取验证码")
    page.wait_for_url("**/login/verify**")
    outbox = phone.context.new_page()
    outbox.goto("/dev/outbox")
    text = outbox.locator(".sms-text").first.inner_text()
    outbox.close()
    code = "".join(ch for ch in text.split("验证码", 1)[1] if ch.isdigit())[:6]
    page.fill("#code", code)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"**{next_path}")


def fill_licence_change(page, change: str = "住所") -> None:
    """The 营业执照变更登记 item's own fields on the applicant page (SC-001 in the demo)."""
    page.fill("#field-credit_code", "91152201MA0N1ABC2D")
    page.select_option("#field-change_type", change)
    page.fill("#field-change_detail", "乌兰浩特市兴安北大路 68 号")


def start_licence_change(phone, id_number: str = "11010519491231002X") -> str:
    """Sign in, start a 营业执照变更登记 (SC-001) and fill the applicant page; the materials URL."""
    page = phone.page
    sign_in(phone, "13800138000", "/apply/SC-001")
    page.click("button:has-text('开始申请')")
    page.fill("#name", "张三")
    page.fill("#id_number", id_number)
    fill_licence_change(page)
    page.click("button:has-text('下一步')")
    page.wait_for_url("**/materials")
    return page.url
