"""The one way to refuse: a Refusal raised anywhere becomes the problem page, or its fragment."""

import pytest
from flask import url_for
from html_kit import attrs, has, is_fragment, link, page_text, soup, text_of, title

from app.booking.services import BookingError
from app.core.access import public_view
from app.core.refusals import Refusal
from app.factory import create_app
from app.feedback.rules import FeedbackError


@pytest.fixture(scope="module")
def refusing(tmp_path_factory):
    """An app whose test pages refuse in each way a feature does; a crash would be a 500."""
    app = create_app({
        "TESTING": False, "PROPAGATE_EXCEPTIONS": False, "SECRET_KEY": "x",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path_factory.mktemp('refusals') / 'r.db'}",
        "RATELIMIT_STORAGE_URI": "memory://"})

    @app.get("/_test/refuse")
    @public_view
    def refuse():
        raise Refusal("这张表已经交过了。", 409, field="code")

    @app.get("/_test/booking")
    @public_view
    def booking():
        raise BookingError("该事项已停止网上预约,请查看办事指南了解其他办理方式", 410,
                           back_url=url_for("pages.halls"))

    @app.get("/_test/feedback")
    @public_view
    def feedback():
        raise FeedbackError("没有找到这条反映。", 404)

    @app.get("/_test/titled")
    @public_view
    def titled():
        raise Refusal("请换一个时间。", 422, title="时间不合适")

    return app


@pytest.fixture
def visitor(refusing):
    return refusing.test_client()


def test_a_refusal_is_a_full_page_with_its_status_title_message_and_field(visitor):
    response = visitor.get("/_test/refuse")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert not is_fragment(html) and title(html).startswith("不能这样操作")
    card = attrs(html, "section.error-card")
    assert card["id"] == "error-409" and card["data-field"] == "code"
    assert "这张表已经交过了。" in text_of(html, "section.error-card")
    assert "错误代码 409" in text_of(html, "section.error-card")
    assert link(html, "回到首页")["href"] == "/"  # no way back of its own: 首页
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_gets_the_fragment_only(visitor):
    response = visitor.get("/_test/refuse", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    first = soup(html).find(True)  # the fragment is the card itself, nothing around it
    assert is_fragment(html) and first.name == "section" and "error-card" in first["class"]
    assert text_of(html, "section.error-card h2.page-title") == "不能这样操作"
    assert "这张表已经交过了。" in text_of(html, "section.error-card")
    assert attrs(html, "section.error-card")["data-field"] == "code"


def test_a_feature_keeps_its_titles_heading_and_way_back(visitor):
    response = visitor.get("/_test/booking")
    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert title(html).startswith("已停止预约")
    assert "该事项已停止网上预约" in text_of(html, "section.error-card")
    assert has(html, "h1", "预约")
    assert link(html, "返回")["href"] == "/halls" and "回到首页" not in page_text(html)


def test_a_feature_without_a_heading_shows_the_title_and_首页(visitor):
    response = visitor.get("/_test/feedback")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert title(html).startswith("没有找到")
    assert "没有找到这条反映。" in text_of(html, "section.error-card")
    assert link(html, "回到首页")["href"] == "/"


def test_a_title_given_where_it_is_raised_wins(visitor):
    response = visitor.get("/_test/titled")
    assert response.status_code == 422
    assert title(response).startswith("时间不合适")


def test_care_mode_stays_on_the_problem_page(visitor):
    visitor.set_cookie("care", "1")
    html = visitor.get("/_test/refuse").get_data(as_text=True)
    assert has(html, "html.care")


def test_a_refusal_is_never_a_500(visitor):
    for path, status in (("/_test/refuse", 409), ("/_test/booking", 410),
                         ("/_test/feedback", 404), ("/_test/titled", 422)):
        for headers in ({}, {"HX-Request": "true"}):
            response = visitor.get(path, headers=headers)
            assert response.status_code == status, (path, headers)
            assert "系统繁忙" not in response.get_data(as_text=True)


def test_the_defaults_of_a_refusal():
    err = Refusal("请检查手机号")
    assert (err.status, err.title, err.field, err.back_url) == (400, "请检查", None, None)
    assert BookingError("x").status == 409 and BookingError("x", 403).title == "暂不能预约"
    assert isinstance(FeedbackError("x"), Refusal)


def test_a_refusal_with_more_shows_what_else_the_person_can_do(visitor):
    response = visitor.get("/t/not-a-link")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert title(html).startswith("链接无效")
    assert "请检查短信中的链接是否完整" in text_of(html, "section.error-card")
    assert has(html, "section.error-card a", "按编号查询")
    assert has(html, "section.error-card a", "登录查看")
    fragment = visitor.get("/t/not-a-link", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert is_fragment(fragment) and has(fragment, "section.error-card a", "登录查看")
