"""Who may do what, route by route (issue 16): generated from the URL map.

Every route that names a record, a hall, a department or a link is asked, with a record of hall A
owned by `owner`, by each kind of person; the answer must be the one EXPECT gives, and a refused
answer (403, 404, or a redirect to sign in) holds nothing of the records. A route with such a part
and no line in EXPECT fails `test_every_route_that_names_something_is_in_the_matrix`.

Answers: ok (allowed: any status but 403/404/a sign-in redirect), 403, 404, in (sent to sign in).
"""

import io
from datetime import date, time, timedelta
from functools import cache

import pytest
import url_kit
from PIL import Image
from sqlalchemy import select
from werkzeug.security import generate_password_hash

import factories
from app.applications.models import Upload
from app.auth.models import Role, StaffDepartment, User
from app.booking.models import Booking, Slot, SlotRule, Ticket
from app.catalog.models import Material
from app.catalog.workdays import CalendarDay
from app.core.links import make_link
from app.core.timeutil import local_today, to_utc, utcnow
from app.extensions import db
from app.help.models import OnBehalf
from app.licences.models import Licence, LicenceShow
from app.progress.models import ResultDelivery
from app.sso.models import IdentityLink

ACTORS = ("owner", "citizen", "anon", "link", "clerk", "dept_clerk", "admin", "far_clerk",
          "far_admin", "city")
# A shorthand per kind of route, then EXPECT per endpoint (and method, where GET and POST differ).
OWNER_ONLY = "ok 404 in in 404 404 404 404 404 404"  # signed in, the owner's own record
OWNER_OR_VIEW = "ok 404 404 ok 404 404 404 404 404 404"  # and a 查看进度 link may view it
OWNER_OR_VIEW_ASK = "ok 404 in ok 404 404 404 404 404 404"  # ...anonymous others: sign in
OWNER_ASK = "ok 404 in in 404 404 404 404 404 404"  # anyone else anonymous: sign in
HALL_STAFF = "403 403 in in ok ok ok 403 403 ok"  # staff of hall A, and the city-wide admin
DESK = "403 403 in in ok ok ok 403 403 403"  # at hall A's counters (no city-wide admin)
HALL_ADMINS = "403 403 in in 403 403 ok 403 403 ok"  # hall A's admin, the city-wide admin
CATALOG_READ = "403 403 in in 403 403 ok 403 ok ok"  # the city's catalog: every admin reads
CITY_ONLY = "403 403 in in 403 403 403 403 403 ok"
SIGNED_IN = "ok ok in in ok ok ok ok ok ok"
PUBLIC = "ok ok ok ok ok ok ok ok ok ok"
PHOTOS = "ok 404 404 404 ok ok ok 403 403 ok"  # the owner and hall A's staff; a view link: no

EXPECT = {
    # photo pre-review: the citizen's pages (a 查看进度 link views the status only)
    "applications.view": OWNER_OR_VIEW_ASK,
    "applications.applicant": OWNER_ONLY,
    "applications.materials": OWNER_ONLY,
    "applications.check": OWNER_ASK,
    "applications.supplement": OWNER_ASK,
    "applications.upload": OWNER_ASK,
    "applications.remove": OWNER_ASK,
    "applications.reuse": OWNER_ONLY,
    "applications.submit": OWNER_ASK,
    "applications.commitment": OWNER_ASK,
    "applications.withdraw": OWNER_ONLY, "applications.sensitive_consent": OWNER_ONLY,
    "applications.photo": PHOTOS,
    "applications.photo_status": PHOTOS,
    "applications.fill_from_photo": OWNER_ONLY,
    "reading.example": PUBLIC,
    "applications.start": SIGNED_IN, "applications.create": SIGNED_IN,
    "applications.start_bundle": SIGNED_IN, "applications.create_bundle": SIGNED_IN,
    # the clerk's review
    "applications.review": HALL_STAFF, "applications.claim": HALL_STAFF,
    "applications.take_over": HALL_STAFF, "applications.release": HALL_STAFF,
    "applications.decide": HALL_STAFF, "applications.supplied": HALL_STAFF,
    "applications.advance": HALL_STAFF,
    # booking
    "booking.start": PUBLIC, "booking.start_bundle": PUBLIC, "booking.slots": PUBLIC,
    "booking.display": PUBLIC, "booking.confirm": SIGNED_IN, "booking.confirm_unsaved": SIGNED_IN,
    "booking.view": OWNER_OR_VIEW, "booking.ics": OWNER_OR_VIEW, "booking.ticket": OWNER_OR_VIEW,
    "booking.cancel": OWNER_ONLY, "booking.change": OWNER_ONLY,
    "booking.queue_act": DESK,
    "booking.admin_capacity": HALL_ADMINS, "booking.admin_retire": HALL_ADMINS,
    "booking.admin_delete_day": HALL_ADMINS,
    # the catalog: public pages, and the admins' (hall A's own item and bundle)
    "catalog.guide": PUBLIC, "catalog.item_checklist": PUBLIC, "catalog.bundle": PUBLIC,
    "catalog.bundle_checklist": PUBLIC, "catalog.item_checklist_png": PUBLIC,
    "catalog.bundle_checklist_png": PUBLIC,
    "catalog.guide_seen": PUBLIC, "catalog.bundle_seen": PUBLIC,
    "catalog.admin_item": CATALOG_READ, "catalog.admin_export": CATALOG_READ,
    "catalog.admin_item_edit": HALL_ADMINS, "catalog.admin_item_fields": HALL_ADMINS,
    "catalog.admin_item_retire": HALL_ADMINS, "catalog.admin_material_add": HALL_ADMINS,
    "catalog.admin_material_edit": HALL_ADMINS, "catalog.admin_material_retire": HALL_ADMINS,
    "catalog.admin_material_move": HALL_ADMINS, "catalog.admin_bundle_edit": HALL_ADMINS,
    "catalog.admin_bundle_retire": HALL_ADMINS,
    # 大厅与窗口: halls are the city-wide admin's; a hall's windows its admin's (issue 22)
    "catalog.admin_hall_edit": CITY_ONLY,
    "catalog.admin_windows": HALL_ADMINS, "catalog.admin_window_new": HALL_ADMINS,
    "catalog.admin_window_edit": HALL_ADMINS, "catalog.admin_window_today": HALL_ADMINS,
    # 办不成事 and 我要问
    "feedback.ask": SIGNED_IN,
    "feedback.ask_submit": "ok ok in in 403 403 403 403 403 403",  # staff ask as citizens only
    "feedback.report_view": OWNER_OR_VIEW, "feedback.question_view": OWNER_OR_VIEW,
    "feedback.staff_report": HALL_STAFF, "feedback.staff_report_step": HALL_STAFF,
    # the department's clerk only (the admins answer for no department here)
    "feedback.staff_question": "403 403 in in ok 403 403 403 403 403",
    "feedback.staff_question_step": "403 403 in in ok 403 403 403 403 403",
    # 帮办代办 (clerk is the named helper)
    "help.view": OWNER_ONLY, "help.confirm": OWNER_ONLY, "help.withdraw": OWNER_ONLY,
    "help.staff_request": HALL_STAFF,
    "help.staff_assign": "403 403 in in ok 403 ok 403 403 ok",  # the helper, or an admin
    "help.staff_step": "403 403 in in ok 403 403 403 403 403",  # the named helper only
    "help.staff_behalf": "403 403 in in ok 403 403 403 403 403",
    # progress (the application, completed): a link views it; delivery is the owner's
    "progress.timeline": OWNER_OR_VIEW,
    "progress.delivery_method": OWNER_ASK, "progress.delivery_address": OWNER_ASK,
    "progress.delivery_check": OWNER_ASK,
    "progress.staff_delivery_sent": HALL_STAFF,  # 寄出: hall A's staff post hall A's results
    # 好差评
    "ratings.window_entry": SIGNED_IN, "ratings.window_qr": HALL_STAFF,
    "ratings.rate": OWNER_ONLY, "ratings.details": OWNER_ONLY, "ratings.submit": OWNER_ONLY,
    "ratings.view": OWNER_ONLY, "ratings.thanks": OWNER_ONLY, "ratings.rate_outcome": OWNER_ONLY,
    "ratings.say_more": OWNER_ONLY,
    "ratings.photo": "ok 404 in in ok ok ok 403 403 ok",
    "ratings.case": HALL_STAFF, "ratings.case_action": HALL_STAFF,
    "ratings.public": PUBLIC,
    # the SMS log is the city's: admins read it, the city-wide admin resends
    "sms.admin_message": CATALOG_READ, "sms.admin_resend": CITY_ONLY,
    # provider sign-in: the owner's own method; hall A's admin manages hall A's staff bindings
    "sso.unlink": OWNER_ONLY, "sso.admin_unbind": HALL_ADMINS,
    # a short link opens its one record for whoever holds it
    "pages.short_link": PUBLIC,
    # 电子证照: the holder's wallet pages and 免提交; hall A's staff open and change its licences
    "licences.view": OWNER_ONLY, "licences.show": OWNER_ONLY, "licences.shown": OWNER_ONLY,
    "applications.use_licence": OWNER_ONLY,
    "licences.staff_view_licence": HALL_STAFF, "licences.staff_change": HALL_STAFF,
}
# Pages that take a hall (?hall=): anyone outside the city-wide role keeps to their own hall.
HALL_PICKED = {
    "booking.clerk_day": HALL_STAFF.replace("403 403 ok", "ok ok ok"),  # far staff: their hall
    "booking.admin_rules": "403 403 in in 403 403 ok 403 ok ok",
    "ratings.dashboard": "403 403 in in 403 403 ok 403 ok ok",
    "help.staff_areas": "403 403 in in 403 403 ok 403 ok ok",
}
WORDS = {  # parts of paths that are not ids, per endpoint
    "applications.photo": {"kind": "thumb"},
    "reading.example": {"kind": "thumb"},
    "applications.advance": {"to": "processing"},
    "booking.queue_act": {"action": "served"},
    "catalog.admin_export": {"fmt": "yaml"},
    "feedback.staff_report_step": {"step": "reply"},
    "feedback.staff_question_step": {"step": "answer"},
    "help.staff_step": {"action": "note"},
    "help.staff_behalf": {"kind": "booking"},
    "progress.timeline": {"kind": "application"},
    "progress.delivery_method": {"kind": "application"},
    "progress.delivery_address": {"kind": "application"},
    "progress.delivery_check": {"kind": "application"},
    "ratings.case_action": {"action": "contact"},
    "licences.staff_change": {"action": "revoke"},
}
FORMS = {  # a form for the allowed ones to send (enough to reach the rules, not to succeed)
    "feedback.staff_report_step": {"reply": "已联系窗口,明天可以办理。"},
    "feedback.staff_question_step": {"answer": "可以先电话挂失,再到窗口补办。"},
    "help.staff_step": {"text": "已电话联系。"},
    "ratings.case_action": {"method": "phone", "plan": "simple", "note": "已联系"},
    "licences.staff_change": {"reason": "证照信息有误"},
    "applications.use_licence": {"licence_id": "1"},
    "progress.staff_delivery_sent": {"courier": "EMS", "tracking_no": "1234567890"},
}


@cache
def _password_hash() -> str:
    return generate_password_hash("x")  # once: hashing is slow, and nobody types it here


def _staff(username: str, role: str, hall) -> User:
    user = User(username=username, role=role, name=username, hall=hall,
                password_hash=_password_hash())
    db.session.add(user)
    db.session.flush()
    return user


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 200, 200)).save(out, "JPEG")
    return out.getvalue()


class World:
    """Hall A's records of one citizen, the people who ask, and what each path part names."""

    def __init__(self, app):
        from app.applications import services as applications
        from app.feedback import questions, reports
        from app.help import services as help_services
        from app.help.services import RequestForm
        from app.ratings import services as ratings
        from app.sms.services import queue_sms
        from app.uploads.storage import get_storage

        self.app, self._clients = app, {}
        self.hall, self.far_hall = factories.hall(name="甲大厅", short_name="甲厅"), \
            factories.hall(name="乙大厅", short_name="乙厅")
        self.item = factories.item(code="A-1", name="甲的事项", halls=[self.hall],
                                   department="公安局", bookable=True, prereview=True)
        item2 = factories.item(code="A-2", halls=[self.hall], department="公安局")
        self.bundle = factories.bundle([self.item, item2], code="YJS-A")
        self.owner = factories.citizen("13800138000", "张三")
        people = {"owner": self.owner, "citizen": factories.citizen("13900139000", "李四")}
        for name, role, hall in [("clerk", Role.CLERK, self.hall),
                                 ("dept_clerk", Role.CLERK, self.hall),
                                 ("admin", Role.ADMIN, self.hall),
                                 ("far_clerk", Role.CLERK, self.far_hall),
                                 ("far_admin", Role.ADMIN, self.far_hall),
                                 ("city", Role.ADMIN, None)]:
            people[name] = _staff(name, role, hall)
        self.people = people
        db.session.add_all([StaffDepartment(user_id=people["clerk"].id, department="公安局"),
                            StaffDepartment(user_id=people["dept_clerk"].id,
                                            department="人社局")])
        window = self.hall.windows[0]
        self.rule = SlotRule(hall_id=self.hall.id, item_id=self.item.id, weekday=0,
                             start=time(9), end=time(10), capacity=4, window_group="A")
        self.day = CalendarDay(hall_id=self.hall.id, day=date(2031, 5, 2), is_workday=False,
                               name="大厅检修")
        db.session.add_all([self.rule, self.day])
        db.session.flush()
        monday = local_today() + timedelta(days=7 - local_today().weekday())
        self.unmade_slot = f"{to_utc(monday, time(9)):%Y%m%d%H%M}"  # the rule's, no row yet
        starts = utcnow() + timedelta(days=3)
        slot = Slot(rule_id=self.rule.id, hall_id=self.hall.id, item_id=self.item.id,
                    day=starts.date(), starts_at=starts, ends_at=starts + timedelta(minutes=30),
                    capacity=4, booked=1, window_group="A")
        db.session.add(slot)
        db.session.flush()
        self.booking = Booking(number="20261204", citizen_id=self.owner.id, slot_id=slot.id,
                               hall_id=self.hall.id, item_id=self.item.id, day=slot.day,
                               idem_key="k1",
                               starts_at=slot.starts_at, ends_at=slot.ends_at)
        db.session.add(self.booking)
        db.session.flush()
        self.ticket = Ticket(hall_id=self.hall.id, window_group="A", day=slot.day, seq=1,
                             booking_id=self.booking.id, item_id=self.item.id, status="called",
                             window_id=window.id, called_at=utcnow())
        db.session.add(self.ticket)
        store = get_storage()
        with app.test_request_context():
            row = applications.start(self.owner, item=self.item)
            row.applicant_name, row.number, row.status = "张三", "YS26120400001", "completed"
            row.submitted_at = row.decided_at = row.closed_at = utcnow()
            material = row.materials[0]
            self.upload = Upload(material=material, citizen_id=self.owner.id, status="ready",
                                 image_key=store.save(_jpeg()), thumb_key=store.save(_jpeg()))
            db.session.add(self.upload)
            db.session.commit()
            self.application = row
            help_row = help_services.create(self.owner, self.item, RequestForm(
                hall_id=str(self.hall.id), mode="phone", contact_name="张三",
                contact_phone="13800138000", details="不清楚要带什么材料"))
            help_row.helper_id = people["clerk"].id
            db.session.add(OnBehalf(request_id=help_row.id, kind="booking", item_id=self.item.id,
                                    slot_id=slot.id, idem_key="b1", code_hash="0" * 64,
                                    expires_at=utcnow() + timedelta(minutes=10),
                                    created_by=people["clerk"].id))  # a code to confirm
            self.help = help_row
            self.report = reports.create_report(self.owner, reports.ReportForm(
                item_code="A-1", hall_id=str(self.hall.id), description="窗口说还要社区证明"))
            self.question = questions.ask(self.owner, "A-1", "户口迁到外地后身份证要重办吗?")
            invite = ratings.invite(channel="onsite", entity="booking",
                                    entity_id=self.booking.id, citizen_id=self.owner.id,
                                    served_at=utcnow() - timedelta(minutes=5),
                                    hall_id=self.hall.id, item_id=self.item.id,
                                    window_id=window.id, clerk_id=people["clerk"].id)
            self.rating = ratings.submit_rating(invite.id, self.owner, ratings.RatingForm(
                score=1, reason="attitude", reason_text="等了很久"))
            self.rating.photo_path = store.save(_jpeg())
            self.message = queue_sms("13800138000", "login_code", {"code": "123456"}, key="m1")
            self.token = make_link("progress", "application", row.id).rsplit("/", 1)[1]
        self.delivery = ResultDelivery(kind="application", entity_id=row.id, method="courier",
                                       recipient="张三", phone="13800138000", hall_id=self.hall.id,
                                       address="兴安盟乌兰浩特市和平街 8 号")
        db.session.add(self.delivery)
        self.own_link = IdentityLink(user_id=self.owner.id, provider="wechat", subject="o-1")
        self.staff_link = IdentityLink(user_id=people["clerk"].id, provider="oidc", subject="s-1")
        db.session.add_all([self.own_link, self.staff_link])
        db.session.commit()
        self.material = db.session.scalar(select(Material).where(
            Material.item_id == self.item.id).limit(1))
        self.material.example_key = get_storage().save(_jpeg())  # 示例图: public, like the guide
        self.material.example_thumb_key = get_storage().save(_jpeg())
        self.invite_id = invite.id
        self.licence = Licence(type_code="residence_permit", number="JZ-MATRIX-1",
                               holder_name="张三", holder_user_id=self.owner.id,
                               department="公安局", hall_id=self.hall.id,
                               issued_on=date(2026, 1, 1))
        db.session.add(self.licence)
        db.session.flush()
        self.show = LicenceShow(licence_id=self.licence.id, user_id=self.owner.id,
                                token="matrixShow12", code="00000000", purpose="测试",
                                expires_at=utcnow() + timedelta(minutes=5))
        db.session.add(self.show)
        db.session.commit()

    def ids(self, endpoint: str) -> dict:
        app_row = self.application
        return {"app_id": app_row.id, "material_id": app_row.materials[0].id
                if endpoint.startswith("applications.") else self.material.id,
                "upload_id": self.upload.id, "booking_id": self.booking.id,
                "slot_id": self.booking.slot_id, "ticket_id": self.ticket.id,
                "hall_id": self.hall.id, "rule_id": self.rule.id, "day_id": self.day.id,
                "item_id": self.item.id, "bundle_id": self.bundle.id,
                "report_id": self.report.id, "question_id": self.question.id,
                "request_id": self.help.id, "invite_id": self.invite_id,
                "rating_id": self.rating.id, "case_id": self.rating.case.id,
                "window_id": self.hall.windows[0].id, "message_id": self.message.id,
                "link_id": self.own_link.id if endpoint == "sso.unlink" else self.staff_link.id,
                "entity_id": self.application.id, "licence_id": self.licence.id,
                "show_id": self.show.id, "delivery_id": self.delivery.id}

    def words(self, endpoint: str) -> dict:
        code = "YJS-A" if "bundle" in endpoint else "A-1"
        return {"code": code, "token": self.token, "stamp": self.unmade_slot,
                **WORDS.get(endpoint, {})}

    def markers(self) -> list[str]:
        """What no refused answer may show."""
        return [self.application.number, self.booking.number, self.help.number,
                self.report.number, self.question.number, "窗口说还要社区证明",
                "户口迁到外地后身份证要重办吗", "等了很久", "张三", "JZ-MATRIX-1"]

    def client(self, actor: str):
        """A browser of this person, signed in once per world."""
        if actor not in self._clients:
            self._clients[actor] = self._browser(actor)
        return self._clients[actor]

    def _browser(self, actor: str):
        client = self.app.test_client()
        if actor == "link":  # opened the 查看进度 links of every record of the owner
            far = (utcnow() + timedelta(days=7)).timestamp()
            with client.session_transaction() as session:
                session["link_grants"] = [
                    [kind, row.id, "progress", far] for kind, row in (
                        ("application", self.application), ("booking", self.booking),
                        ("unresolved_report", self.report), ("question", self.question),
                        ("help_request", self.help))]
        elif actor != "anon":
            factories.sign_in(client, self.people[actor])
        return client


@pytest.fixture
def world(app):
    return World(app)


DELETES = {"booking.admin_delete_day", "sso.admin_unbind"}  # each allowed one needs a record


def _fresh_world(app) -> World:
    from conftest import _clean

    db.session.rollback()
    _clean()
    return World(app)


def _rules(app):
    """(endpoint, method, rule) for every route with a part naming something, each method."""
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.endpoint != "static":
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, rule


def _outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/login" in location:
        return "in"
    if response.status_code in (403, 404) or response.status_code >= 500:
        return str(response.status_code)  # a 500 is never "allowed"
    return "ok"


def _ask(world, actor, endpoint, method, path):
    response = world.client(actor).open(path, method=method, data=FORMS.get(endpoint, {}))
    return _outcome(response), response


def test_every_route_that_names_something_is_in_the_matrix(app):
    missing = sorted({e for e, _, _ in _rules(app) if e not in EXPECT})
    assert missing == []


def _route_ids():
    from app.factory import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    return sorted({(e, m) for e, m, _ in _rules(app) if e != "static"})


def _check(app, world, endpoint, method, fresh: bool) -> None:
    """Ask as every kind of person; the refused first, so an allowed change cannot alter what
    they meet (`fresh`: a new world for each allowed one, when the change deletes the record)."""
    rule = next(r for e, m, r in _rules(app) if e == endpoint and m == method)
    path = url_kit.path(rule, world.ids(endpoint), world.words(endpoint))
    expected = dict(zip(ACTORS, EXPECT[endpoint].split(), strict=True))
    got = {}
    for actor in sorted(ACTORS, key=lambda a: expected[a] == "ok"):
        if fresh and expected[actor] == "ok":
            world = _fresh_world(app)
            path = url_kit.path(rule, world.ids(endpoint), world.words(endpoint))
        got[actor], response = _ask(world, actor, endpoint, method, path)
        if got[actor] != "ok":
            body = response.get_data(as_text=True)
            shown = [m for m in world.markers() if m in body]
            assert shown == [], (actor, method, path, shown)
    assert got == expected, (method, path)


def test_who_may_open_each_page(app, world):
    """Every GET route of the matrix, against one world (a page changes nothing)."""
    pages = [e for e, m in _route_ids() if m == "GET"]
    assert len(pages) > 40
    # opening the short link grants each browser the record: that one goes last
    pages.sort(key=lambda e: e == "pages.short_link")
    for endpoint in pages:
        _check(app, world, endpoint, "GET", fresh=False)


@pytest.mark.parametrize("endpoint, method", [r for r in _route_ids() if r[1] != "GET"],
                         ids=lambda v: v)
def test_who_may_change_it(app, world, endpoint, method):
    _check(app, world, endpoint, method, fresh=endpoint in DELETES)


@pytest.mark.parametrize("endpoint", sorted(HALL_PICKED))
def test_a_picked_hall_is_only_the_city_wide_admins(app, world, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    path = f"{rule.rule}?hall={world.hall.id}"
    expected = dict(zip(ACTORS, HALL_PICKED[endpoint].split(), strict=True))
    for actor in ACTORS:
        outcome, response = _ask(world, actor, endpoint, "GET", path)
        assert outcome == expected[actor], (actor, path, outcome)
        if outcome == "ok" and actor.startswith("far_"):  # their own hall, not the one named
            body = response.get_data(as_text=True)
            assert "甲厅" not in body and "甲大厅" not in body, (actor, path)
