"""Pages that list slots write nothing: a slot's row is made when someone books it (issue 18
point 6, issue 19: no GET writes to the database)."""

from contextlib import contextmanager
from datetime import date

import pytest
from conftest import shanghai
from html_kit import link, soup
from sqlalchemy import event, func, select

from app.booking.models import Booking, Slot
from app.extensions import db


@contextmanager
def writes():
    """The INSERT/UPDATE/DELETE statements sent while the block runs."""
    seen = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _slot_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Slot))


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)  # a Wednesday morning
def test_the_slots_page_writes_nothing_and_booking_makes_the_row(client, auth, world):
    auth.login_citizen()
    url = f"/book/{world.item.code}/hall/{world.hall.id}"
    with writes() as seen:
        page = client.get(url)
        fragment = client.get(f"{url}?day=2026-12-03", headers={"HX-Request": "true"})
    assert page.status_code == 200 and fragment.status_code == 200
    assert seen == [] and _slot_rows() == 0
    times = [a.get_text(" ", strip=True) for a in soup(fragment).select("a.slot")]
    assert times[0].startswith("09:00-09:30") and "余 2 个" in times[0] and len(times) == 4

    confirm_url = link(fragment, "09:30-10:00")["href"]
    with writes() as seen:
        confirm = client.get(confirm_url)
    assert confirm.status_code == 200 and seen == [] and _slot_rows() == 0
    form = soup(confirm).select_one("form[method=post]")
    assert form["action"] == confirm_url.split("?")[0]

    idem = soup(confirm).select_one("input[name=idem]")["value"]
    first = client.post(confirm_url, data={"idem": idem})
    again = client.post(confirm_url, data={"idem": idem})  # the same form sent twice
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    booking = db.session.scalar(select(Booking))
    assert _slot_rows() == 1 and booking.slot.booked == 1
    assert booking.slot.starts_at.strftime("%H:%M") == "01:30"  # 09:30 in Shanghai, in UTC

    listed = client.get(f"{url}?day=2026-12-03", headers={"HX-Request": "true"})
    assert "余 1 个" in link(listed, "09:30-10:00").get_text()
    assert link(listed, "09:30-10:00")["href"].startswith(f"/book/slot/{booking.slot_id}")


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
@pytest.mark.parametrize("key", [
    "{rule}-202612030145",  # 09:45 is not the start of a 30-minute slot
    "{rule}-202612030500",  # 13:00: after the rule closes at 11:00
    "{rule}-2026120301xx",  # not a time
    "999999-202612030100",  # no such rule
])
def test_a_slot_key_the_rules_do_not_open_is_not_found(client, auth, world, key):
    auth.login_citizen()
    rule = next(r for r in world.rules if r.weekday == 3)  # 2026-12-03 is a Thursday
    url = f"/book/slot/{key.format(rule=rule.id)}"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"idem": "k"}).status_code == 404
    assert _slot_rows() == 0 and db.session.scalar(select(func.count(Booking.id))) == 0


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_a_slot_of_another_rules_day_is_not_found(client, auth, world):
    auth.login_citizen()
    monday_rule = next(r for r in world.rules if r.weekday == 0)
    assert client.get(f"/book/slot/{monday_rule.id}-202612030100").status_code == 404


@pytest.mark.time_machine(shanghai("2026-12-02 10:00"), tick=True)
def test_a_refused_booking_of_a_time_nobody_had_booked_shows_why(client, auth, world):
    # The refusal rolls back the slot row made for it: the page is drawn from the time as it was
    # shown, not from that row (which no longer exists: a 500 under load, seen by bench/journey.py).
    auth.login_citizen()
    fragment = client.get(f"/book/{world.item.code}/hall/{world.hall.id}?day=2026-12-03",
                          headers={"HX-Request": "true"})
    first, second = (link(fragment, t)["href"] for t in ("09:00-09:30", "09:30-10:00"))
    assert client.post(first, data={"idem": "a" * 32}).status_code == 303
    refused = client.post(second, data={"idem": "b" * 32})
    assert refused.status_code in range(400, 500)
    assert soup(refused).select_one("form[method=post]")["action"] == second.split("?")[0]
    assert _slot_rows() == 1


@pytest.mark.time_machine(shanghai("2026-12-02 12:00"), tick=True)  # today's 09:00-11:00 is over
def test_the_slots_page_opens_on_the_first_day_with_a_place_left(client, world):
    for slot in world.slots(date(2026, 12, 3)):  # Thursday: every place taken
        slot.booked = slot.capacity
    db.session.commit()
    url = f"/book/{world.item.code}/hall/{world.hall.id}"
    page = soup(client.get(url))
    assert page.select_one("a.day[aria-current=date]")["href"].endswith("day=2026-12-04")
    assert [a.get_text(" ", strip=True)[:11] for a in page.select("a.slot")] == [
        "09:00-09:30", "09:30-10:00", "10:00-10:30", "10:30-11:00"]

    for day in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14):  # no place left on any day
        for slot in world.slots(date(2026, 12, day)):
            slot.booked = slot.capacity
    db.session.commit()
    page = soup(client.get(url))
    shown = page.select_one("a.day[aria-current=date]")["href"]
    assert shown.endswith("day=2026-12-02") and not page.select("a.slot[href]")
