"""Help pages keep the house rules: no inline script or style, unique ids, phones masked."""

from datetime import timedelta

from bs4 import BeautifulSoup

from app.booking import opening
from app.booking import services as booking


def _check(response, path):
    assert response.status_code == 200, path
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.title and soup.title.string.strip().endswith("掌上办"), path
    assert not [s for s in soup.find_all("script") if not s.get("src")], path
    assert not soup.find_all("style") and not soup.select("[style]"), path
    assert not [t for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)]
    ids = [t["id"] for t in soup.find_all(id=True)]
    assert len(ids) == len(set(ids)), f"duplicate ids on {path}"
    return soup


def test_every_help_page_keeps_the_house_rules(world, client, auth, as_staff):
    auth.login_citizen("13800138000")
    row = world.ask(contact_phone="13900139001", details="也可打我女儿电话13912345678")
    sc = as_staff(world.clerk)
    sc.post(f"/staff/help/{row.id}/assign")
    sc.post(f"/staff/help/{row.id}/review", data={"text": "已联系"})
    with world.app.test_request_context():
        day = booking.local_today() + timedelta(days=1)
        slot = opening.ensure_slots(world.hall.id, world.item.id, day)[0]
    sc.post(f"/staff/help/{row.id}/behalf/booking", data={"slot_id": slot.id})
    for path in ("/help/new", f"/help/new?item={world.item.code}", "/help/mine",
                 f"/help/{row.id}", f"/book/slot/{slot.id}"):
        soup = _check(client.get(path), path)
        assert "13900139001" not in soup.get_text(), path
    assert "139****5678" in sc.get(f"/staff/help/{row.id}").get_data(as_text=True)
    for path in ("/staff/help", f"/staff/help/{row.id}", f"/staff/help/{row.id}?item=HJ-002"):
        text = _check(sc.get(path), path).get_text()
        assert "13900139001" not in text and "13912345678" not in text
        assert "139****9001" in text or path == "/staff/help"
    admin = as_staff(world.admin)
    _check(admin.get("/staff/help/areas"), "/staff/help/areas")
