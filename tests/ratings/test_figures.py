"""The figures: definitions, grouping, the dashboard with its charts, CSV, and the public page."""

import csv
import io
from datetime import timedelta

from bs4 import BeautifulSoup

from app.core.timeutil import utcnow
from app.extensions import db
from app.ratings import figures, services
from app.ratings.models import Rectification


def _scope(world, **kw):
    today = services.local_day(utcnow())
    return figures.Scope(start=today - timedelta(days=3), end=today + timedelta(days=1),
                         hall_id=world.hall.id, **kw)


def _mixed(world, citizen_client, app):
    """Five services: 5 (invited), 4 (QR), 3, 1 (bad), and one not rated."""
    rows = [world.invite() for _ in range(5)]
    with app.test_request_context():
        services.note_link_opened(rows[0])
    world.rate(citizen_client, rows[0], 5)
    citizen_client.get(f"/ratings/{rows[1].id}/details?score=4&via=qr")
    citizen_client.post(f"/ratings/{rows[1].id}", data={"score": 4, "via": "qr"})
    world.rate(citizen_client, rows[2], 3)
    world.rate(citizen_client, rows[3], 1, reason="wrong")
    return rows


def test_each_figure_by_its_definition(world, citizen_client, app, client, auth):
    _mixed(world, citizen_client, app)
    total = figures.totals(_scope(world))
    c, r = total.counts, total.rates
    assert (c["invites"], c["unrated"], c["counted"], c["good"], c["bad"]) == (5, 1, 4, 3, 1)
    assert r["good_rate"] == 75.0 and r["unrated_rate"] == 20.0
    assert (c["active"], c["active_good"]) == (3, 2) and r["active_good_rate"] == 66.7
    assert r["reply_rate"] == 0.0 and r["verify_rate"] == 0.0 and r["satisfied_rate"] is None
    case = db.session.query(Rectification).one()
    auth.login_staff("admin1", "secret-pass-2")
    client.post(f"/ratings/cases/{case.id}/contact", data={
        "method": "phone", "plan": "simple", "note": "已沟通", "reply": "已联系您。"})
    client.post(f"/ratings/cases/{case.id}/fix", data={"note": "已更正", "reply": "已更正。"})
    client.post(f"/ratings/cases/{case.id}/verify", data={"satisfied": "no", "note": "仍不满意"})
    r = figures.totals(_scope(world)).rates
    assert (r["reply_rate"], r["verify_rate"], r["satisfied_rate"]) == (100.0, 100.0, 0.0)
    # the citizen's own rating of the outcome outweighs what was noted at the follow-up
    citizen_client.post(f"/ratings/r/{case.rating_id}/outcome", data={"score": 4})
    assert figures.totals(_scope(world)).rates["satisfied_rate"] == 100.0


def test_grouping_by_dimension_and_filters(world, citizen_client, app):
    _mixed(world, citizen_client, app)
    by_clerk = figures.by(_scope(world), "clerk")
    assert [(r.label, r.counts["counted"]) for r in by_clerk] == [("测试工作人员", 4)]
    by_dept = figures.by(_scope(world), "department")
    assert by_dept[0].label == "公安局"
    assert figures.totals(_scope(world, window_id=world.window.id + 999)).counts["invites"] == 0
    assert figures.totals(_scope(world, item_id=world.item.id)).counts["invites"] == 5
    days = figures.by(_scope(world), "day")
    assert sum(d.counts["invites"] for d in days) == 5
    assert figures.monthly(days)[0].counts["invites"] == 5


def test_overdue_counts_cases_whose_clock_ran_out(world, citizen_client, app):
    _mixed(world, citizen_client, app)
    case = db.session.query(Rectification).one()
    assert figures.totals(_scope(world)).counts["overdue"] == 0
    case.due_at = utcnow() - timedelta(hours=1)
    services.refresh_figures(case.rating.invite)
    db.session.commit()
    assert figures.totals(_scope(world)).counts["overdue"] == 1
    assert figures.open_overdue(world.hall.id) == 1


def test_dashboard_is_for_admins_with_an_svg_chart_per_figure(world, citizen_client, app,
                                                               client, auth):
    _mixed(world, citizen_client, app)
    auth.login_staff("clerk1", "secret-pass-1")
    assert client.get("/ratings/dashboard").status_code == 403
    auth.logout()
    auth.login_staff("admin1", "secret-pass-2")
    response = client.get("/ratings/dashboard")
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.select_one("#figure-good_rate strong").get_text() == "75.0%"
    charts = soup.select("figure.chart svg")
    assert len(charts) == 7 and all(c.select_one("polyline") for c in charts[:1])
    assert not soup.select("script:not([src])") and not soup.select("[style]")
    ids = [t["id"] for t in soup.select("[id]")]
    assert len(ids) == len(set(ids))
    assert soup.select_one("#by-item") and soup.select_one("#by-clerk")
    year = client.get("/ratings/dashboard?from=2025-12-01&to=2026-11-30")
    assert year.status_code == 200 and "按月" in year.get_data(as_text=True)
    assert client.get("/ratings/dashboard?from=nonsense").status_code == 200


def test_csv_export_per_day_and_per_window(world, citizen_client, app, client, auth):
    _mixed(world, citizen_client, app)
    auth.login_staff("admin1", "secret-pass-2")
    response = client.get("/ratings/dashboard.csv?by=window")
    assert response.mimetype == "text/csv" and "attachment" in response.headers[
        "Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "窗口" and "好评率(%)" in rows[0]
    assert rows[1][0] == "A01 综合窗口" and rows[1][1:3] == ["5", "4"]
    assert rows[1][rows[0].index("好评率(%)")] == "75.0"
    daily = client.get("/ratings/dashboard.csv").get_data(as_text=True)
    assert daily.splitlines()[0].lstrip("\ufeff").startswith("日期")


def test_public_page_shows_months_and_resolved_cases_anonymised(world, citizen_client, app,
                                                               client, auth):
    _mixed(world, citizen_client, app)
    case = db.session.query(Rectification).one()
    auth.login_staff("admin1", "secret-pass-2")
    client.post(f"/ratings/cases/{case.id}/explain",
                data={"reply": "依据相关规定不能当场办理,已告知您补齐材料,可拨 13911112222 咨询。"})
    auth.logout()
    page = client.get(f"/halls/{world.hall.id}/ratings").get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    assert "75.0%" in soup.select_one("#public-months").get_text()
    resolved = soup.select_one("#public-resolved").get_text()
    assert "办理结果有误或没办成" in resolved and "依据相关规定" in resolved
    assert "139****2222" in resolved and "13911112222" not in page
    assert "138****8000" not in page and "张三" not in page
    assert client.get("/halls/999999/ratings").status_code == 404
