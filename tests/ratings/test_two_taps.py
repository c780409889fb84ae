"""好差评 in two taps from the SMS: the link grants that one rating without signing in, a good
rating saves on the tap, a bad one asks for its reasons (several), and the link works once,
until the rating window closes."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from conftest import shanghai
from html_kit import errors

from app.core.links import ShortLink
from app.extensions import db
from app.ratings.models import Rating
from app.sms.models import SmsMessage

pytestmark = pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=False)  # a Wednesday


def _link_path(invite_id=None):
    messages = db.session.query(SmsMessage).filter_by(template="rating_invite").order_by(
        SmsMessage.id.desc()).all()
    link = db.session.query(ShortLink).filter_by(entity_id=invite_id).one() if invite_id else None
    if link:
        return f"/t/{link.token}"
    return "/t/" + messages[0].params["link"].rsplit("/t/", 1)[1]


def test_the_link_expires_with_the_rating_window(world):
    invite = world.invite()
    link = db.session.query(ShortLink).one()
    assert link.expires_at == invite.closes_at


def test_good_rating_saves_on_the_tap_without_signing_in(world, client):
    invite = world.invite()
    response = client.get(_link_path())
    assert response.headers["Location"].endswith(f"/ratings/{invite.id}")
    page = client.get(f"/ratings/{invite.id}").get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    taps = soup.select(".faces form button.face")  # 非常满意 and 满意 post at once
    assert [b.get_text(strip=True) for b in taps] == ["非常满意", "满意"]
    assert [a.get_text(strip=True) for a in soup.select(".faces a.face")] == [
        "基本满意", "不满意", "非常不满意"]
    response = client.post(f"/ratings/{invite.id}", data={"score": 5})
    assert response.status_code == 303 and "/thanks" in response.headers["Location"]
    rating = db.session.query(Rating).one()
    assert rating.score == 5 and rating.source == "sms" and rating.scores == {}
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "感谢您的评价" in thanks and "还想说说?" in thanks and rating.number in thanks
    more = client.post(f"/ratings/r/{rating.id}/more",
                       data={"ind_efficiency": "5", "ind_attitude": "4", "reason_text": "很快"})
    assert more.status_code == 303
    db.session.refresh(rating)
    assert rating.scores == {"efficiency": 5, "attitude": 4} and rating.reason_text == "很快"
    assert "还想说说?" not in client.get(f"/ratings/r/{rating.id}/thanks").get_data(as_text=True)
    again = client.post(f"/ratings/r/{rating.id}/more", data={"ind_efficiency": "1"})
    assert again.status_code == 409


def test_say_more_with_nothing_is_400_in_place(world, client):
    invite = world.invite()
    client.get(_link_path())
    client.post(f"/ratings/{invite.id}", data={"score": 4})
    rating = db.session.query(Rating).one()
    response = client.post(f"/ratings/r/{rating.id}/more", data={"reason_text": " "})
    assert response.status_code == 400 and "请至少选一项" in errors(response)


def test_the_link_rates_once_then_shows_the_rating_given(world, client, app):
    invite = world.invite()
    path = _link_path()
    client.get(path)
    client.post(f"/ratings/{invite.id}", data={"score": 2, "reason": ["slow", "repeat"]})
    rating = db.session.query(Rating).one()
    other = app.test_client()  # the same SMS tapped again: WeChat opens a fresh browser
    again = other.get(path)
    assert again.status_code == 303
    assert again.headers["Location"].endswith(f"/ratings/r/{rating.id}/thanks")
    page = other.get(again.headers["Location"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "您已经评价过这次服务了" in text and "不满意" in text and rating.number in text
    assert "等候或办理时间太长、多次跑动、重复提交材料" in text
    assert "还想说说" not in text  # nothing to add to a bad rating
    assert other.post(f"/ratings/{invite.id}", data={"score": 5}).status_code == 409
    assert client.post(f"/ratings/{invite.id}", data={"score": 1, "reason": "slow"}
                       ).status_code == 409
    assert db.session.query(Rating).count() == 1
    assert other.get(f"/ratings/r/{rating.id}").status_code == 302  # the answers: sign in


def test_a_second_tap_by_another_signed_in_phone_is_refused(world, client, app):
    from factories import citizen, sign_in

    invite = world.invite()
    path = _link_path()
    client.get(path)
    client.post(f"/ratings/{invite.id}", data={"score": 5})
    stranger = app.test_client()
    sign_in(stranger, citizen("13900139000", "李四"))
    response = stranger.get(path)
    assert response.status_code == 403 and "另一个手机号" in errors(response)


def test_the_link_after_the_window_is_refused(world, client, time_machine):
    invite = world.invite()
    path = _link_path()
    time_machine.move_to(invite.closes_at + timedelta(seconds=1))
    response = client.get(path)
    assert response.status_code == 410 and "已过期" in errors(response)
    assert client.get(f"/ratings/{invite.id}").status_code == 302  # nothing granted: sign in


def test_the_grant_is_for_that_one_rating(world, client):
    first = world.invite()
    first_path = _link_path(first.id)
    second = world.invite()
    client.get(first_path)
    assert client.get(f"/ratings/{first.id}").status_code == 200
    response = client.get(f"/ratings/{second.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(f"/ratings/{second.id}", data={"score": 5}).status_code == 302
    assert client.get("/ratings/mine").status_code == 302
    assert db.session.query(Rating).count() == 0


def test_bad_rating_asks_for_several_reasons_then_saves(world, client):
    invite = world.invite()
    client.get(_link_path())
    page = client.get(f"/ratings/{invite.id}/details?score=2").get_data(as_text=True)
    soup = BeautifulSoup(page, "html.parser")
    boxes = soup.select("#reason-field input[type=checkbox][name=reason]")
    assert len(boxes) >= 7 and "可多选" in page
    form = soup.select_one("form.card")
    first_submit = form.select("button[type=submit]")[0]
    assert first_submit.get_text(strip=True) == "提交评价"
    assert first_submit.find_parent("details") is None
    assert soup.select_one("details.more-details .indicators") is not None  # folded under it
    missing = client.post(f"/ratings/{invite.id}", data={"score": 2, "reason_text": "排队太久"})
    assert missing.status_code == 400 and "请选择不满意的原因" in errors(missing)
    assert "排队太久" in missing.get_data(as_text=True)
    response = client.post(f"/ratings/{invite.id}", data={
        "score": 2, "reason": ["slow", "repeat", "bogus"], "reason_text": "排队太久"})
    assert response.status_code == 303
    rating = db.session.query(Rating).one()
    assert rating.reasons == ["slow", "repeat"] and rating.reason == "slow"
    assert rating.reason_label == "等候或办理时间太长、多次跑动、重复提交材料"
    assert rating.case is not None
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "还想说说" not in thanks and "工作人员会在" in thanks


def test_someone_else_signed_in_is_refused_at_the_link(world, client, auth):
    world.invite()
    auth.login_citizen("13900139000")
    response = client.get(_link_path())
    assert response.status_code == 403 and "只有办事本人可以评价" in errors(response)
