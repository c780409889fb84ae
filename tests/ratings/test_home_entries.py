"""Issue 21, point 8: 我要评 leads to pending ratings or how to rate; 我要问 to a service."""

from html_kit import attrs, hrefs

import factories


def test_home_entries_lead_to_rating_and_asking(client):
    links = hrefs(client.get("/"))
    assert "/ratings" in links and "/feedback/ask" in links


def test_signed_out_rate_page_says_how_to_rate_at_a_window(client):
    page = client.get("/ratings").get_data(as_text=True)
    assert "在窗口办完事怎样评价" in page and "登录查看待评价的服务" in page
    assert attrs(page, "#rate-sign-in")["href"] == "/login?next=/ratings/mine"


def test_signed_in_rate_goes_to_pending_ratings(world, client, auth):
    world.invite()
    auth.login_citizen("13800138000")
    response = client.get("/ratings")
    assert response.status_code == 302 and response.location.endswith("/ratings/mine")
    page = client.get("/ratings/mine").get_data(as_text=True)
    assert "可以评价的服务" in page and world.item.name in page


def test_ask_lists_services_to_choose_and_searches(client):
    hall = factories.hall()
    one = factories.item(name="营业执照变更登记", halls=[hall], department="市场监督管理局")
    other = factories.item(name="新生儿出生登记", halls=[hall])
    page = client.get("/feedback/ask").get_data(as_text=True)
    assert f"/feedback/ask/{one.code}" in hrefs(page)
    assert f"/feedback/ask/{other.code}" in hrefs(page)
    found = client.get("/feedback/ask?q=营业执照").get_data(as_text=True)
    assert one.name in found and other.name not in found
    none = client.get("/feedback/ask?q=不存在的事").get_data(as_text=True)
    assert "没有找到“不存在的事”" in none and "咨询电话" in none
