"""A matter's timeline: public steps, newest first, next step, whom to call; else 404."""

from html_kit import count, hrefs, text_of
from sqlalchemy import event

import factories
from app.core.models import audit
from app.extensions import db
from app.progress.models import ResultDelivery


def test_owner_sees_public_steps_newest_first(client, auth, matters):
    me = factories.citizen()
    matter = matters.add(me, steps=["您的办件已提交", "工作人员已开始预审", "已受理,正在办理"])
    audit("testcase", matter.id, "internal", note="内部备注:材料复核")
    db.session.commit()
    auth.login_citizen()
    response = client.get(f"/progress/testcase/{matter.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index("已受理,正在办理") < page.index("工作人员已开始预审") < page.index(
        "您的办件已提交")
    assert "内部备注" not in page
    assert matter.number in page and "请留意短信通知" in page
    assert "tel:0482-8260000" in hrefs(response)
    assert "private" in response.headers["Cache-Control"]


def test_another_citizens_record_is_404_and_leaks_nothing(client, auth, matters):
    owner, _ = factories.citizen("13900139000"), factories.citizen("13800138000")
    theirs = matters.add(owner, steps=["秘密进度"])
    auth.login_citizen("13800138000")
    response = client.get(f"/progress/testcase/{theirs.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "没有找到这条办件" in text_of(response, ".error-card h2")
    assert theirs.number not in page and "秘密进度" not in page
    missing = client.get("/progress/testcase/999999")
    assert missing.status_code == 404
    assert _body(missing) == _body(response)


def test_anonymous_and_unknown_kind_are_404(client, matters):
    matter = matters.add(factories.citizen())
    assert client.get(f"/progress/testcase/{matter.id}").status_code == 404
    assert client.get(f"/progress/nothing/{matter.id}").status_code == 404


def _count_queries(app, fn) -> int:
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_query_count_does_not_grow_with_steps(app, client, auth, matters):
    me = factories.citizen()
    few = matters.add(me, steps=[f"第 {n} 步" for n in range(3)], completed=True)
    many = matters.add(me, steps=[f"第 {n} 步" for n in range(60)], completed=True)
    for matter in (few, many):  # the delivery choice comes back in the same query
        db.session.add(ResultDelivery(kind="testcase", entity_id=matter.id, method="pickup"))
    db.session.commit()
    auth.login_citizen()
    client.get(f"/progress/testcase/{few.id}")  # warm caches (templates, catalog)
    small = _count_queries(app, lambda: client.get(f"/progress/testcase/{few.id}"))
    large = _count_queries(app, lambda: client.get(f"/progress/testcase/{many.id}"))
    page = client.get(f"/progress/testcase/{many.id}").get_data(as_text=True)
    assert count(page, "li.progress-step") == 61 and "您选择了到窗口领取结果" in page
    assert small == large


def _body(response) -> str:
    import re

    return re.sub(r'"X-CSRFToken": "[^"]+"', "", response.get_data(as_text=True))
