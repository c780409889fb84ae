"""Finding items and bundles: Chinese search, topics and audiences, popular and recent."""

from html_kit import is_fragment, link, one, soup, text_of, texts

import factories
from app.catalog.services import recent_keys, remember
from app.extensions import db


def _demo(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


def test_typing_fandian_finds_the_restaurant_bundle(client, runner):
    _demo(runner)
    response = client.get("/services?q=饭店")
    page = response.get_data(as_text=True)
    assert link(response, "我要开饭店")["href"] == "/bundles/YJS-KFD"
    assert "食品经营许可" in " ".join(texts(response, ".row-title"))
    assert "新生儿出生登记" not in page


def test_live_search_returns_only_the_results_fragment(client, runner):
    _demo(runner)
    response = client.get("/services?q=饭店", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert is_fragment(page) and soup(page).find(True).get("id") == "results"  # only the results
    assert "我要开饭店" in texts(response, ".row-title")
    assert "HX-Request" in response.headers["Vary"]


def test_search_page_works_as_a_plain_form(client, runner):
    _demo(runner)
    page = client.get("/services")
    form = one(page, 'form[action="/services"]')
    assert form["method"] == "get" and form.find("input", attrs={"name": "q"})
    assert form["hx-trigger"].startswith("input changed delay:300ms")


def test_search_matches_keyword_and_department_and_every_word(client):
    factories.item(name="新生儿出生登记", keywords="上户口 落户", department="公安局")
    factories.item(name="不动产登记", keywords="房产证", department="自然资源局")
    assert "新生儿出生登记" in texts(client.get("/services?q=上户口"), ".row-title")
    response = client.get("/services?q=自然资源")
    page = response.get_data(as_text=True)
    assert "不动产登记" in texts(response, ".row-title") and "新生儿出生登记" not in page
    none = client.get("/services?q=公安局 房产证")
    assert "没有找到相关事项" in text_of(none, "#results p.muted")


def test_search_treats_percent_and_underscore_literally(client):
    factories.item(name="新生儿出生登记")
    assert "没有找到相关事项" in text_of(client.get("/services?q=%"), "#results p.muted")
    assert "没有找到相关事项" in text_of(client.get("/services?q=_"), "#results p.muted")


def test_search_is_case_insensitive_for_latin_letters(client):
    factories.item(name="ETC 办理", keywords="etc 高速")
    assert "ETC 办理" in texts(client.get("/services?q=etc"), ".row-title")


def test_retired_items_are_not_found(client):
    from app.core.timeutil import utcnow

    factories.item(name="旧事项", retired_at=utcnow())
    response = client.get("/services?q=旧事项")
    assert "旧事项" not in texts(response, ".row-title")
    assert "没有找到相关事项" in text_of(response, "#results p.muted")


def test_browse_by_topic_and_audience(client):
    factories.item(name="个人户籍事项", topic="户籍", audience="individual")
    factories.item(name="企业消防事项", topic="消防", audience="company")
    page = client.get("/services")
    assert "按主题浏览" in texts(page, "#browse h2")
    topics = [a["href"] for a in soup(page).select("#browse a")]
    assert "/services?topic=%E6%88%B7%E7%B1%8D" in topics
    assert link(page, "法人办事")["href"] == "/services?audience=company"
    page = client.get("/services?topic=消防")
    assert texts(page, ".row-title") == ["企业消防事项"]
    assert "个人户籍事项" not in page.get_data(as_text=True)
    page = client.get("/services?audience=individual")
    assert texts(page, ".row-title") == ["个人户籍事项"]
    assert "企业消防事项" not in page.get_data(as_text=True)
    page = client.get("/services?topic=不存在&audience=nobody")
    assert sorted(texts(page, ".row-title")) == sorted(["个人户籍事项", "企业消防事项"])


def test_home_shows_popular_items_and_links_bundles_to_their_pages(client):
    quiet = factories.item(name="冷门事项")
    busy = factories.item(name="热门事项甲")
    factories.bundle([quiet, busy], name="我要开饭店", code="YJS-KFD")
    for _ in range(3):  # the guide page, then the view it reports once shown
        client.get(f"/services/{busy.code}")
        client.get(f"/services/{busy.code}/seen")
    db.session.refresh(busy)
    assert busy.views == 3
    page = client.get("/").get_data(as_text=True)
    assert page.index("热门事项甲") < page.index("冷门事项")
    assert link(client.get("/"), "我要开饭店")["href"] == "/bundles/YJS-KFD"


def test_recently_viewed_on_home_newest_first_from_a_cookie(client):
    first = factories.item(name="先看的事项")
    second = factories.item(name="后看的事项")
    factories.bundle([first, second], name="看过的一件事", code="B-SEEN")
    assert "最近浏览" not in client.get("/").get_data(as_text=True)
    for page in (f"/services/{first.code}", "/bundles/B-SEEN", f"/services/{second.code}"):
        client.get(page)
        client.get(f"{page}/seen")  # what the page sends once shown
    page = client.get("/").get_data(as_text=True)
    recent = page[page.index("最近浏览"):page.index("热门事项")]
    assert recent.index("后看的事项") < recent.index("看过的一件事") < recent.index("先看的事项")
    cookie = client.get_cookie("recent")
    assert cookie.http_only and "1380" not in cookie.value
    assert cookie.value == f"i:{second.code}.b:B-SEEN.i:{first.code}"


def test_recent_cookie_is_bounded_and_ignores_junk():
    value = "i:A.b:B.x:C.i:bad code.i:A"
    assert recent_keys(value) == ["i:A", "b:B"]
    for n in range(10):
        value = remember(value, f"i:I{n}")
    assert recent_keys(value)[0] == "i:I9" and len(recent_keys(value)) == 6


def test_bookable_page_lists_items_with_online_capabilities(client):
    factories.item(name="可预约事项", bookable=True)
    factories.item(name="纯窗口事项", bookable=False, prereview=False, fully_online=False)
    page = client.get("/book").get_data(as_text=True)
    assert "可预约事项" in page and "纯窗口事项" not in page
