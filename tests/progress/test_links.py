"""The "progress" short link: one record, without signing in; nothing else, never after expiry."""

from datetime import timedelta

from html_kit import hrefs, link, text_of, texts

import factories
from app.core import links
from app.core.links import ShortLink, make_link
from app.core.timeutil import utcnow
from app.extensions import db
from app.progress.notify import notify
from app.sms.models import SmsMessage


def _link(app, matter, purpose="progress") -> str:
    with app.test_request_context():
        url = make_link(purpose, matter.kind, matter.id)
    db.session.commit()
    return "/t/" + url.rsplit("/", 1)[1]


def test_sms_link_opens_the_timeline_without_sign_in(app, client, matters):
    matter = matters.add(factories.citizen(), steps=["已受理,正在办理"])
    with app.test_request_context():
        notify("testcase", matter.id, "accepted")
    db.session.commit()
    text = db.session.query(SmsMessage).one().text
    path = "/t/" + text.rsplit("/t/", 1)[1]
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/progress/testcase/{matter.id}"
    opened = client.get(response.headers["Location"])
    assert "已受理,正在办理" in opened.get_data(as_text=True)
    assert link(opened, "登录")  # 登录后可查看您的全部办件
    assert "登录后可查看您的全部办件" in " ".join(texts(opened, "p"))


def test_link_never_opens_another_record(app, client, matters):
    owner = factories.citizen()
    mine, other = matters.add(owner), matters.add(owner, steps=["另一件的进度"])
    client.get(_link(app, mine))
    assert client.get(f"/progress/testcase/{mine.id}").status_code == 200
    response = client.get(f"/progress/testcase/{other.id}")
    assert response.status_code == 404 and "另一件的进度" not in response.get_data(as_text=True)


def test_link_for_another_purpose_does_not_open_progress(app, client, matters, monkeypatch):
    matter = matters.add(factories.citizen(), steps=["不应显示"])

    def rate_view(link):
        links.grant(link)
        return "rate page"

    monkeypatch.setitem(links._HANDLERS, "rate", rate_view)
    assert client.get(_link(app, matter, "rate")).get_data(as_text=True) == "rate page"
    response = client.get(f"/progress/testcase/{matter.id}")
    assert response.status_code == 404 and "不应显示" not in response.get_data(as_text=True)


def test_expired_link_explains_and_offers_lookup(app, client, matters):
    matter = matters.add(factories.citizen(), steps=["不应显示"])
    path = _link(app, matter)
    db.session.query(ShortLink).update({"expires_at": utcnow() - timedelta(seconds=1)})
    db.session.commit()
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 410 and "链接已过期" in text_of(response, ".error-card")
    assert "/progress/lookup" in hrefs(response) and "不应显示" not in page
    assert client.get(f"/progress/testcase/{matter.id}").status_code == 404


def test_forged_and_truncated_links_are_refused(app, client, matters):
    matter = matters.add(factories.citizen(), steps=["不应显示"])
    path = _link(app, matter)
    forged = path[:-1] + ("a" if path[-1] != "a" else "b")
    for bad in (forged, path[:-3], path[:-1] + "é"):
        response = client.get(bad)
        page = response.get_data(as_text=True)
        assert response.status_code == 404 and "链接无效" in text_of(response, ".error-card"), bad
        assert "/progress/lookup" in hrefs(response) and "不应显示" not in page
    assert client.get(f"/progress/testcase/{matter.id}").status_code == 404


def test_link_to_a_vanished_record_is_404(app, client, matters):
    matter = matters.add(factories.citizen())
    path = _link(app, matter)
    del matters.rows[matter.id]
    response = client.get(path)
    assert response.status_code == 404 and "没有找到这条办件" in text_of(response, ".error-card")


def test_notify_link_fits_in_40_characters(app, matters):
    matter = matters.add(factories.citizen())
    app.config.update(SERVER_NAME="zsb.xam.gov.cn", PREFERRED_URL_SCHEME="https")
    try:
        with app.test_request_context():
            message = notify("testcase", matter.id, "completed")
        db.session.commit()
    finally:
        app.config.update(SERVER_NAME=None, PREFERRED_URL_SCHEME="http")
    link = message.params["link"]
    assert link.startswith("https://zsb.xam.gov.cn/t/") and len(link) <= 40
    assert link in message.text and len(message.text) <= 70
