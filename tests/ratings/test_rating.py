"""Who may rate what, once, within the window, by two taps; and the bad input around it."""

from datetime import date, datetime, timedelta

from bs4 import BeautifulSoup
from html_kit import errors, has, hrefs, page_text, text_of

from app.catalog.workdays import CalendarDay
from app.core.links import ShortLink
from app.core.timeutil import utcnow
from app.extensions import db
from app.jobs import OutboxJob
from app.ratings import services
from app.ratings.models import Rating, RatingInvite, Rectification
from app.sms.models import SmsMessage


def _link_path(phone="13800138000"):
    message = db.session.query(SmsMessage).filter_by(
        phone=phone, template="rating_invite").order_by(SmsMessage.id.desc()).first()
    return "/t/" + message.params["link"].rsplit("/t/", 1)[1]


def test_invite_sends_one_sms_with_a_short_link_and_is_idempotent(world):
    first = world.invite(entity="application", entity_id=7, channel="online")
    again = world.invite(entity="application", entity_id=7, channel="online")
    assert first.id == again.id
    messages = db.session.query(SmsMessage).order_by(SmsMessage.id).all()
    assert [m.template for m in messages] == ["rating_invite_online"]
    assert "感谢您使用网上预审,欢迎评价" in messages[0].text  # not "到大厅办事": no visit
    link = db.session.query(ShortLink).one()
    assert (link.purpose, link.entity, link.entity_id) == ("rate", "rating_invite", first.id)


def test_the_invitation_is_worded_for_how_the_person_was_served(world):
    world.invite(channel="onsite")
    world.invite(channel="online", service="phone", entity="help_request")
    world.invite(channel="onsite", service="home", entity="help_request")
    world.invite(channel="online", entity="application", sms=False)  # its outcome SMS carries it
    texts = [m.text for m in db.session.query(SmsMessage).order_by(SmsMessage.id)]
    assert len(texts) == 3
    assert f"感谢您到{world.hall.short_name}办事" in texts[0]
    assert "感谢您使用电话帮办" in texts[1] and "感谢您使用上门帮办" in texts[2]


def test_window_closes_five_working_days_later_skipping_holidays(world, app):
    db.session.add(CalendarDay(day=date(2026, 10, 5), is_workday=False, name="国庆"))
    db.session.commit()
    served = datetime(2026, 9, 30, 3, 0)  # Wednesday 11:00 in Shanghai
    with app.test_request_context():
        row = services.new_invite("onsite", "booking", 99, world.citizen.id, served,
                                  world.hall.id)
    # Thu 1, Fri 2, (weekend), Mon-holiday skipped, Tue 3, Wed 4, Thu 5 = 8 October
    assert row.closes_at == datetime(2026, 10, 8, 15, 59, 59)


def test_the_link_opens_the_rating_page_without_signing_in(world, client):
    invite = world.invite()
    assert client.get(f"/ratings/{invite.id}").status_code == 302  # no link yet: sign in
    response = client.get(_link_path())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/ratings/{invite.id}")
    page = client.get(f"/ratings/{invite.id}").get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    faces = soup.select(".faces .face")
    assert [f.get_text(strip=True) for f in faces] == [
        "非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert not has(page, "input[checked]") and "自愿" in page_text(page)


def test_someone_elses_link_or_rating_is_refused(world, client, auth):
    invite = world.invite()
    path = _link_path()
    auth.login_citizen("13900139000")
    response = client.get(path)
    assert response.status_code == 403 and "只有办事本人可以评价" in errors(response)
    assert client.get(f"/ratings/{invite.id}").status_code == 404
    response = client.post(f"/ratings/{invite.id}", data={"score": 5})
    assert response.status_code == 404 and "只有办事本人" in errors(response)
    assert db.session.query(Rating).count() == 0


def test_a_forged_link_is_refused(world, client):
    world.invite()
    token = _link_path().rsplit("/", 1)[1]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get(f"/t/{forged}")
    assert response.status_code == 404 and "链接无效" in errors(response)


def test_good_rating_in_two_taps_with_optional_indicators(world, client, auth):
    invite = world.invite()
    client.get(_link_path())  # arrived through the invitation
    auth.login_citizen()
    response = world.rate(client, invite, 4, ind_efficiency="5", ind_attitude="4",
                          ind_nonsense="3")
    assert response.status_code == 303 and "/thanks" in response.headers["Location"]
    rating = db.session.query(Rating).one()
    assert rating.score == 4 and rating.scores == {"efficiency": 5, "attitude": 4}
    assert rating.source == "sms" and not rating.self_initiated and rating.case is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert rating.number in page and "感谢您的评价" in page


def test_rating_twice_is_refused(world, client, auth):
    invite = world.invite()
    auth.login_citizen()
    assert world.rate(client, invite, 5).status_code == 303
    response = client.post(f"/ratings/{invite.id}", data={"score": 1, "reason": "slow"})
    assert response.status_code == 409 and "已经评价过" in errors(response)
    assert db.session.query(Rating).count() == 1
    rating = db.session.query(Rating).one()
    for path in (f"/ratings/{invite.id}", f"/ratings/{invite.id}/details?score=1"):
        again = client.get(path)  # reloaded, or reopened from history: the rating given
        assert again.status_code == 303, path
        assert again.headers["Location"].endswith(f"/ratings/r/{rating.id}/thanks")
    page = client.get(f"/ratings/r/{rating.id}/thanks").get_data(as_text=True)
    assert "您已经评价过这次服务了" in page and "非常满意" in page and rating.number in page


def test_rating_after_the_window_is_refused(world, client, auth):
    invite = world.invite(served_at=datetime(2026, 1, 5, 2, 0))
    auth.login_citizen()
    response = client.post(f"/ratings/{invite.id}", data={"score": 5})
    assert response.status_code == 410 and "评价期已结束" in errors(response)
    assert client.get(f"/ratings/{invite.id}").status_code == 410


def test_bad_rating_needs_a_reason_and_keeps_what_was_typed(world, client, auth):
    invite = world.invite()
    auth.login_citizen()
    response = world.rate(client, invite, 2, reason_text="等了两个小时", ind_efficiency="1")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请选择不满意的原因" in errors(response)
    soup = BeautifulSoup(page, "html.parser")
    assert soup.select_one("#reason_text").get_text() == "等了两个小时"
    assert soup.select_one("input[name=ind_efficiency][value='1']").has_attr("checked")
    assert db.session.query(Rating).count() == 0
    response = client.post(f"/ratings/{invite.id}", data={"score": 2, "reason": "slow",
                                                          "reason_text": "长" * 501})
    assert response.status_code == 400 and "不能超过 500 字" in errors(response)
    response = client.post(f"/ratings/{invite.id}", data={"score": 9})
    assert response.status_code == 400 and "请选择您对这次服务的满意程度" in errors(response)


def test_bad_rating_opens_a_case_with_a_one_working_day_clock(world, client, auth):
    invite = world.invite()
    auth.login_citizen()
    response = world.rate(client, invite, 1, reason="attitude", reason_text="态度生硬")
    assert response.status_code == 303
    case = db.session.query(Rectification).one()
    assert case.status == "open" and case.hall_id == world.hall.id
    assert case.clerk_id == world.clerk.id and case.due_at > case.created_at
    names = {j.name for j in db.session.query(OutboxJob)}
    assert {"ratings.case_overdue"} <= names
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 个工作日内与您联系" in page


def test_qr_code_rates_the_visit_just_had_or_says_there_is_none(world, client, auth):
    auth.login_citizen()
    response = client.get(f"/ratings/window/{world.window.id}")
    assert response.status_code == 200 and "暂时没有可以评价的服务" in response.get_data(
        as_text=True)
    old = world.invite(served_at=utcnow() - timedelta(hours=3))
    new = world.invite()
    response = client.get(f"/ratings/window/{world.window.id}")
    assert response.headers["Location"].endswith(f"/ratings/{new.id}?via=qr")
    client.get(f"/ratings/{new.id}/details?score=5&via=qr")
    client.post(f"/ratings/{new.id}", data={"score": 5, "via": "qr"})
    rating = db.session.query(Rating).one()
    assert rating.source == "qr" and rating.self_initiated
    response = client.get(f"/ratings/window/{world.window.id}")
    assert response.headers["Location"].endswith(f"/ratings/{old.id}?via=qr")


def test_window_qr_sheet_is_an_svg_for_staff_of_that_hall(world, client, auth):
    auth.login_staff("clerk1", "secret-pass-1")
    page = client.get(f"/ratings/window/{world.window.id}/qr")
    assert has(page, ".qr svg")
    assert text_of(page, ".qr-sheet p.small").endswith(f"/ratings/window/{world.window.id}")
    auth.logout()
    auth.login_staff("clerk2", "secret-pass-3")
    assert client.get(f"/ratings/window/{world.window.id}/qr").status_code == 403


def test_my_ratings_lists_waiting_and_rated(world, client, auth):
    invite = world.invite()
    other = world.invite()
    auth.login_citizen()
    world.rate(client, invite, 5)
    page = client.get("/ratings/mine")
    assert f"/ratings/{other.id}" in hrefs(page) and has(page, ".row-title", "非常满意")
    assert db.session.get(RatingInvite, other.id).rated_at is None


def test_rating_texts_fit_their_segments():
    from app.sms.templates import SEGMENT, TEMPLATES, render

    link = "https://zsb.xam.gov.cn/t/AbCdEfGhIjKl"  # 40 characters at most
    params = {"hall": "乌兰浩特市大厅", "link": link, "no": "ZG202611230001",
              "step": "完成整改", "due": "11-24 23:59"}
    for key in ("rating_invite", "rating_reply", "rating_case_due", "rating_case_overdue"):
        text = render(key, params)
        assert len(text) <= SEGMENT * TEMPLATES[key].segments, (key, len(text))
