"""In-app browsers: the pages work with a WeChat-style UA; the open-in-browser hint."""

from flask import render_template

import factories

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0 Mobile Safari/537.36 MicroMessenger/8.0.49.2600(0x28003133)")


def test_lookup_and_timeline_work_in_wechat(client, matters, run_jobs):
    matter = matters.add(factories.citizen(), steps=["已受理,正在办理"])
    headers = {"User-Agent": WECHAT_UA}
    assert client.get("/progress/lookup", headers=headers).status_code == 200
    client.post("/progress/lookup", data={"number": matter.number}, headers=headers)
    run_jobs()
    from app.extensions import db
    from app.sms.models import SmsMessage

    code = db.session.query(SmsMessage).one().params["code"]
    response = client.post("/progress/lookup/code", data={"code": code}, headers=headers)
    page = client.get(response.headers["Location"], headers=headers).get_data(as_text=True)
    assert "已受理,正在办理" in page


def test_open_in_browser_hint_only_in_wechat(app):
    with app.test_request_context(headers={"User-Agent": WECHAT_UA}):
        hint = render_template("progress/_open_in_browser.html", what="下载日历文件")
    assert "在浏览器中打开" in hint and "下载日历文件" in hint
    with app.test_request_context(headers={"User-Agent": "Mozilla/5.0 Chrome/126.0"}):
        assert render_template("progress/_open_in_browser.html").strip() == ""
