"""工作台 (issue 22, point 1): staff land on it after signing in, with their own tab bar and a
count on each entry, counted in one query; a clerk's window is kept on the account."""

from datetime import UTC, timedelta

import pytest
from bs4 import BeautifulSoup
from conftest import shanghai
from html_kit import errors
from sqlalchemy import event

import factories
from app.applications.models import Application
from app.auth.models import Role, User
from app.booking.models import Ticket
from app.catalog.models import Window
from app.extensions import db
from app.progress.models import ResultDelivery

WEDNESDAY = shanghai("2026-12-02 10:00")


def _utc(moment):
    return moment.astimezone(UTC).replace(tzinfo=None)


@pytest.fixture
def hall():
    return factories.hall()


@pytest.fixture
def clerk(hall):
    return factories.staff("clerk1", "secret-pass-1", Role.CLERK, hall)


def _tabs(page: str) -> list[str]:
    nav = BeautifulSoup(page, "html.parser").find("nav", class_="tabbar")
    return [a.get_text(strip=True) for a in nav.find_all("a")]


def _entries(page: str) -> dict[str, str]:
    soup = BeautifulSoup(page, "html.parser").find(id="workbench")
    return {a.find(class_="row-title").get_text(): a.find(class_="row-meta").get_text()
            for a in soup.find_all("a")}


def test_staff_sign_in_lands_on_the_workbench(client, clerk):
    response = client.post("/staff/login", data={"username": "clerk1",
                                                 "password": "secret-pass-1"})
    assert response.status_code == 303 and response.headers["Location"] == "/staff"
    assert "预审队列" in client.get("/staff").get_data(as_text=True)


def test_a_next_page_still_wins(client, clerk):
    response = client.post("/staff/login", data={"username": "clerk1", "password": "secret-pass-1",
                                                 "next": "/clerk/queue"})
    assert response.headers["Location"] == "/clerk/queue"


def test_staff_have_their_own_tab_bar(client, auth, clerk, hall):
    factories.sign_in(client, clerk)
    assert _tabs(client.get("/staff").get_data(as_text=True)) == [
        "工作台", "预审", "叫号", "帮办", "我的"]
    assert _tabs(client.get("/me").get_data(as_text=True))[0] == "工作台"
    city = factories.staff("city", "secret-pass-9", Role.ADMIN, None)
    other = client.application.test_client()
    factories.sign_in(other, city)
    assert "叫号" not in _tabs(other.get("/staff").get_data(as_text=True))  # not at a counter
    citizen = client.application.test_client()
    factories.sign_in(citizen, factories.citizen())
    assert _tabs(citizen.get("/me").get_data(as_text=True)) == [
        "首页", "办事", "预约", "进度", "我的"]


@pytest.mark.time_machine(WEDNESDAY, tick=False)
def test_each_entry_says_what_waits(client, clerk, hall):
    owner = factories.citizen()
    for hours in (2, 1, 0.5):
        db.session.add(Application(citizen_id=owner.id, hall_id=hall.id, title="测试",
                                   status="submitted",
                                   queued_at=_utc(WEDNESDAY - timedelta(hours=hours))))
    far = factories.hall()
    db.session.add(Application(citizen_id=owner.id, hall_id=far.id, title="别的大厅",
                               status="submitted", queued_at=_utc(WEDNESDAY - timedelta(days=5))))
    for seq in (1, 2):
        db.session.add(Ticket(hall_id=hall.id, window_group="A", day=WEDNESDAY.date(), seq=seq,
                              status="waiting"))
    for n, hours in enumerate((3, 1)):  # courier chosen, not yet posted
        db.session.add(ResultDelivery(kind="application", entity_id=n + 1, method="courier",
                                      hall_id=hall.id,
                                      updated_at=_utc(WEDNESDAY - timedelta(hours=hours))))
    db.session.add(ResultDelivery(kind="application", entity_id=9, method="courier",
                                  hall_id=hall.id, sent_at=_utc(WEDNESDAY)))  # posted
    db.session.add(ResultDelivery(kind="application", entity_id=8, method="pickup",
                                  hall_id=hall.id))
    db.session.commit()
    factories.sign_in(client, clerk)
    entries = _entries(client.get("/staff").get_data(as_text=True))
    assert entries["预审队列"] == "3 件,最久 2 小时"
    assert entries["快递寄送"] == "2 件待寄出,最久 3 小时"
    assert entries["取号叫号"] == "等候 2 人"
    assert entries["今日预约"] == "今天没有预约"


def test_the_counts_take_one_query(client, clerk, hall):
    factories.sign_in(client, clerk)
    client.get("/staff")  # warm: the sign-in's own lookups
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = client.get("/staff").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(_entries(page)) >= 6
    counting = [s for s in statements if "count(" in s.lower()]
    assert len(counting) == 1, counting
    print(f"GET /staff: {len(statements)} statements")
    assert len(statements) <= 8, statements  # the sign-in, the alerts, the counts


def test_the_window_list_starts_on_choose_and_is_kept_per_account(app, client, clerk, hall):
    factories.sign_in(client, clerk)
    soup = BeautifulSoup(client.get("/clerk/queue").get_data(as_text=True), "html.parser")
    chosen = soup.select_one("#window_id option[selected]")
    assert chosen.get_text() == "请选择窗口" and chosen["value"] == ""
    window = hall.windows[0]
    assert client.post("/clerk/queue/window", data={"window_id": window.id}).status_code == 303
    assert db.session.get(User, clerk.id).window_id == window.id
    phone = app.test_client()  # another device, another sign-in
    factories.sign_in(phone, clerk)
    soup = BeautifulSoup(phone.get("/clerk/queue").get_data(as_text=True), "html.parser")
    assert soup.select_one("#window_id option[selected]")["value"] == str(window.id)


def test_a_window_of_another_hall_or_none_is_refused(client, clerk, hall):
    factories.sign_in(client, clerk)
    far = factories.hall()
    for value in ("", "abc", str(far.windows[0].id)):
        response = client.post("/clerk/queue/window", data={"window_id": value})
        assert response.status_code == 400 and "请先选择您所在的窗口" in errors(response)
    assert db.session.get(User, clerk.id).window_id is None


@pytest.mark.time_machine(WEDNESDAY, tick=False)
def test_a_window_closed_today_cannot_be_chosen(client, clerk, hall):
    window = hall.windows[0]
    window.closed_on = WEDNESDAY.date()
    db.session.add(Window(hall=hall, code="A02", name="第二窗口", group="A"))
    db.session.commit()
    factories.sign_in(client, clerk)
    page = client.get("/clerk/queue").get_data(as_text=True)
    assert "今日暂停" in page
    response = client.post("/clerk/queue/window", data={"window_id": window.id})
    assert response.status_code == 409 and "今日暂停服务" in errors(response)
