"""Helpers for browser tests."""


def sign_in(phone, number: str = "13800138000", next_path: str = "/me") -> None:
    """Sign in with the code shown in the dev outbox, as a developer would."""
    page = phone.page
    page.goto(f"/login?next={next_path}")
    page.fill("#phone", number)
    page.click("text=获取验证码")  # in place: the button counts down, the page stays
    page.wait_for_selector("#code-status:has-text('验证码已发送')")
    page.fill("#code", code_from_outbox(phone))
    accept_terms(page)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"**{next_path}")


def accept_terms(page) -> None:
    """Tick 同意《用户服务协议》《隐私政策》 where the sign-in form asks for it."""
    box = page.locator("input[name=agree]")
    if box.count() and not box.is_checked():
        box.check()


def code_from_outbox(phone) -> str:
    """The latest code in the dev outbox."""
    outbox = phone.context.new_page()
    outbox.goto("/dev/outbox")
    text = outbox.locator(".sms-text").first.inner_text()
    outbox.close()
    return "".join(ch for ch in text.split("验证码", 1)[1] if ch.isdigit())[:6]


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
    agree_sensitive(page)
    return page.url


def agree_sensitive(page) -> None:
    """同意 the processing of sensitive personal information, asked before the first photo."""
    page.check("#sensitive-consent input[name=agree]")
    page.click("text=同意,开始拍照上传")
    page.wait_for_selector("#sensitive-consent", state="detached")
    # The materials page comes back: let its scripts load before a photo is chosen, or the
    # choice meets the page without them and nothing is sent (seen once on a loaded machine).
    page.wait_for_load_state("load")
