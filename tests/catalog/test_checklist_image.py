"""Issue 21, point 8: inside WeChat 打印告知单 offers 保存为图片, a PNG drawn by the server."""

import io

from html_kit import button, has, link, one, text_of
from PIL import Image

import factories

WECHAT = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile MicroMessenger/8.0.49"}


def _item():
    hall = factories.hall(name="乌兰浩特市政务服务中心")
    row = factories.item(name="新生儿出生登记", halls=[hall],
                         materials=("居民身份证", "出生医学证明"))
    row.materials[0].notes = "须为原件"
    return row


def test_inside_wechat_the_checklist_offers_the_picture_and_the_browser_hint(client):
    item = _item()
    response = client.get(f"/services/{item.code}/checklist", headers=WECHAT)
    page = response.get_data(as_text=True)
    assert link(response, "保存为图片")["href"] == f"/services/{item.code}/checklist?as=image"
    hint = text_of(response, ".open-in-browser")
    assert "微信内无法打印" in hint and "在浏览器中打开" in hint
    assert not has(page, "[data-print]")  # printing does nothing there
    outside = client.get(f"/services/{item.code}/checklist")
    assert button(outside, "打印告知单").has_attr("data-print")
    assert "微信内无法打印" not in outside.get_data(as_text=True)


def test_the_picture_page_shows_the_png_to_long_press(client):
    item = _item()
    page = client.get(f"/services/{item.code}/checklist?as=image", headers=WECHAT)
    assert page.status_code == 200 and "长按下面的图片" in text_of(page, "p.notice")
    assert one(page, "img.checklist-png")["src"] == f"/services/{item.code}/checklist.png"


def test_the_png_is_the_checklist_drawn_with_a_cjk_font(client):
    item = _item()
    response = client.get(f"/services/{item.code}/checklist.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"].startswith("public")
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "PNG" and image.width == 750 and image.height > 900
    # drawn text: dark pixels in the material list, not tofu boxes of a missing font
    grey = image.convert("L")
    assert sum(grey.crop((40, 200, 700, 500)).histogram()[:100]) > 2000


def test_a_bundle_has_its_picture_too_and_an_unknown_code_is_404(client):
    a, b = _item(), factories.item(materials=("营业执照",))
    bundle = factories.bundle([a, b])
    assert client.get(f"/bundles/{bundle.code}/checklist.png").status_code == 200
    assert client.get("/services/NOPE/checklist.png").status_code == 404


def test_without_the_font_the_picture_fails_visibly_not_with_a_500(app, client):
    item = _item()
    app.config["CJK_FONT"] = "/nonexistent/font.ttc"
    try:
        assert client.get(f"/services/{item.code}/checklist.png").status_code == 503
    finally:
        app.config["CJK_FONT"] = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
