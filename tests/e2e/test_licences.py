"""Done when (issue 23), on phones: an application is 办结 and its licence appears in the wallet;
the citizen shows it (亮证) and a clerk verifies it on another phone; a later application for an
item that needs it marks the material 免提交 and the clerk sees the live status; a revoked
licence no longer counts."""

import re

from applications.application_kit import VALID_ID
from e2e.browser import agree_sensitive, sign_in
from sqlalchemy import select

import factories
from app.catalog.models import Hall
from app.extensions import db
from app.licences.models import Licence

HALL = "乌兰浩特市政务服务中心"


def _items():
    hall = db.session.scalar(select(Hall).where(Hall.name == HALL))
    factories.item(materials=(), halls=[hall], code="JZ-E2E", name="居住证办理",
                   department="公安局", licence_type="residence_permit", licence_years=1)
    needs = factories.item(materials=("居住证", "租房合同"), halls=[hall], code="GZ-E2E",
                           name="公租房申请", department="住建局")
    needs.materials[0].licence_type = "residence_permit"
    needs.materials[1].may_be_missing = True
    db.session.commit()


def _apply(phone, code):
    page = phone.page
    page.goto(f"/apply/{code}")
    page.click("button:has-text('开始申请')")
    page.fill("#name", "张三")
    page.fill("#id_number", VALID_ID)
    page.click("button:has-text('下一步')")
    page.wait_for_url("**/materials")
    agree_sensitive(page)


def _submit(page):
    page.click("a:has-text('下一步')")
    page.wait_for_url("**/check")
    page.click("button:has-text('提交预审')")
    page.wait_for_url("**done=1")
    return int(re.search(r"/applications/(\d+)", page.url).group(1))


def _claim(c, app_id):
    c.goto("/review")
    c.locator(f"#queue-{app_id} button:has-text('认领审核')").click()
    c.wait_for_url(f"**/review/{app_id}")


def test_licence_issued_shown_verified_used_in_place_of_a_photo_and_revoked(make_phone):
    citizen, clerk = make_phone(), make_phone()
    _items()
    page, c = citizen.page, clerk.page
    sign_in(citizen, "13800138000", "/apply/JZ-E2E")
    _apply(citizen, "JZ-E2E")
    first = _submit(page)

    # 办结 on the clerk's phone issues the licence.
    c.goto("/staff/login")
    c.fill("#username", "clerk")
    c.fill("#password", "clerk-demo-2026")
    with c.expect_navigation():
        c.click("button:has-text('登录')")
    _claim(c, first)
    c.check("input[name='decision'][value='accept']")
    c.click("button:has-text('提交审核结论')")
    c.wait_for_url(f"**/review/{first}")
    c.click("button:has-text('开始办理')")
    c.click("button:has-text('办结')")
    c.wait_for_url(f"**/review/{first}")
    licence = db.session.scalar(select(Licence).where(Licence.application_id == first))
    assert licence is not None and licence.type_code == "residence_permit"

    # The wallet shows it, with its status; 亮证 gives a QR code and a code.
    page.goto("/me")
    page.click("a:has-text('我的证照')")
    wallet = page.inner_text("#wallet-mine")
    assert "居住证" in wallet and licence.number in wallet and "有效" in wallet
    assert "结婚证" in wallet  # the demo citizen's own, from the demo data
    page.click(f"a:has-text('{licence.number}')")
    page.fill("#purpose", "公租房申请")
    page.click("button:has-text('亮证')")
    page.wait_for_url("**/licences/shows/*")
    assert page.locator(".licence-qr svg").count() == 1
    code = page.inner_text(".licence-code").replace(" ", "")
    assert re.fullmatch(r"\d{8}", code)

    # The clerk, on another phone, types the code and sees it valid now, watermarked.
    c.goto("/staff")
    c.click("a:has-text('核验亮证')")
    c.fill("#code", code)
    c.fill("#window", "A01")
    c.click("button:has-text('核验')")
    result = c.inner_text("#verified")
    assert licence.number in result and "有效" in result
    assert "仅供 乌兰浩特市大厅A01 窗口办理 公租房申请 使用" in result
    # The same code again: refused, nothing shown.
    c.goto("/licences/verify")
    c.fill("#code", code)
    c.click("button:has-text('核验')")
    assert "亮证码无效、已过期或已使用" in c.inner_text("#code-error")
    assert licence.number not in c.inner_text("main")

    # The citizen's 用证记录 names the check.
    page.goto(f"/licences/{licence.id}")
    uses = page.inner_text("#licence-uses")
    assert "窗口核验" in uses and "公租房申请" in uses

    # A later application: the material a 居住证 satisfies is 免提交.
    _apply(citizen, "GZ-E2E")
    card = page.locator("section.app-material", has=page.locator("h3:has-text('居住证')"))
    assert "已有电子证照,无需提交" in card.inner_text() and licence.number in card.inner_text()
    assert card.locator("input.app-file").count() == 0
    second = _submit(page)

    # The clerk sees its live status in the review.
    _claim(c, second)
    status = c.locator("[id$='-licence']").first.inner_text()
    assert licence.number in status and "有效" in status

    # Revoked: the review shows it live, and a new application asks for a photo again.
    c.goto(f"/staff/licences/{licence.id}")
    c.fill("#reason", "居住地已变更")
    c.click("button:has-text('注销证照')")
    c.wait_for_url(f"**/staff/licences/{licence.id}")
    c.goto(f"/review/{second}")
    status = c.locator("[id$='-licence']").first.inner_text()
    assert "已注销" in status and "该证照已不能代替材料" in status
    _apply(citizen, "GZ-E2E")
    card = page.locator("section.app-material", has=page.locator("h3:has-text('居住证')"))
    assert "已有电子证照,无需提交" not in card.inner_text()
    assert card.locator("input.app-file").count() == 2  # 拍照 and 从相册选, as today
    page.goto("/licences")
    assert "已注销" in page.inner_text("#wallet-mine")
    citizen.assert_clean()
    # Allowed: the deliberate 410 of the reused code.
    assert [e for e in clerk.errors if "status of 410" not in e] == [], clerk.errors
