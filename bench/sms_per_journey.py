"""SMS per application (issue 21, point 4): "One application sent 9 today".

Run from the repo root: .venv/bin/python bench/sms_per_journey.py

The app in its embedded mode (SQLite in a temporary directory, jobs inline), the clock set to a
Wednesday morning in the halls' time zone, driven through its pages with Flask's test client as
the tests do. Two online applications (网上预审):
  online    submitted, 退回补正, resubmitted, 容缺受理, the missing material 补齐 (通过),
            开始办理, 办结
  rejected  submitted, 不予受理
Counts the SMS each sends to the applicant's phone, sign-in codes aside (the people here are
signed in without one). Target, as the issue lists what to send: one SMS per decision of the
hall that the person must hear of (补正, 通过 — 容缺受理 is the 通过, with a material still to
come, so its 补齐 sends no second one —, 不予受理, 办结 with the rating link inside it, no
separate rating invitation), nothing for submitting or for the hall's own steps (claiming the
case, 开始办理), and fewer than the 9 one application sent before. Exits 1 on a miss.
"""

import io
import re
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import time_machine  # noqa: E402

BASELINE = 9  # the "One application sent 9 today"
PHONE = "13800138000"
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
MATERIALS = ("变更登记申请书", "法定代表人身份证", "新住所使用证明")
CODES = {"login_code", "lookup_code"}
LINK = re.compile(r"/t/\w+")
# What each journey should send, in order: the hall's decisions the person must hear of.
EXPECTED = {
    "online": ["app_supplement", "app_accepted_missing", "app_completed"],
    "rejected": ["app_rejected"],
}


def make_app():
    from flask_migrate import upgrade

    from app.factory import create_app

    tmp = Path(tempfile.mkdtemp(prefix="palm-bench-sms-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
                      "REDIS_URL": None, "TESTING": False, "DEBUG": False,
                      "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False, "SMS_BACKEND": "console",
                      "UPLOAD_DIR": str(tmp / "uploads"), "QUIET_HOURS": "0-0"})
    with app.app_context():
        upgrade(revision="heads")
    return app


class Journey:
    """One hall, one item with a material that may be missing, a clerk, and one applicant."""

    def __init__(self, app, phone: str):
        import factories
        from app.extensions import db

        self.app, self.phone = app, phone
        with app.app_context():
            hall = factories.hall()
            item = factories.item(halls=[hall], materials=MATERIALS, promised_days=3,
                                  code=f"SC-B{phone[-2:]}")
            item.materials[2].may_be_missing = True
            db.session.commit()
            self.item_code = item.code
            clerk = factories.staff(f"clerk{phone[-2:]}", "bench-pass-1", "clerk", hall)
            self.citizen, self.clerk = app.test_client(), app.test_client()
            factories.sign_in(self.citizen, factories.citizen(phone, name="张三"))
            factories.sign_in(self.clerk, clerk)

    def post(self, client, path: str, data=None, **kw) -> None:
        response = client.post(path, data=data or {}, **kw)
        response.close()  # what runs after the answer (inline jobs) runs now
        if response.status_code not in (200, 303):
            raise SystemExit(f"POST {path}: {response.status_code}")

    def submit(self) -> int:
        """Start, fill in, photograph the two required materials and submit: the app's id."""
        from applications.application_kit import VALID_ID

        response = self.citizen.post(f"/apply/{self.item_code}")
        app_id = int(re.search(r"/applications/(\d+)/", response.location).group(1))
        self.post(self.citizen, f"/applications/{app_id}/applicant",
                  {"name": "张三", "id_number": VALID_ID, "phone": self.phone})
        self.post(self.citizen, f"/applications/{app_id}/consent", {"agree": "1"})
        for material in self.materials(app_id)[:2]:
            self.upload(app_id, material)
        self.post(self.citizen, f"/applications/{app_id}/submit")
        return app_id

    def upload(self, app_id: int, material: int) -> None:
        from applications.application_kit import photo

        self.post(self.citizen, f"/applications/{app_id}/materials/{material}/photos",
                  {"photo": (io.BytesIO(photo()), "photo.jpg")},
                  content_type="multipart/form-data", headers={"HX-Request": "true"})

    def materials(self, app_id: int) -> list[int]:
        from app.applications.models import Application
        from app.extensions import db

        with self.app.app_context():
            return [m.id for m in db.session.get(Application, app_id).materials]

    def decide(self, app_id: int, decision: str, **extra) -> None:
        """The clerk claims the case and decides, every material 合格 unless `extra` says."""
        data = {f"verdict-{m}": "ok" for m in self.materials(app_id)}
        self.post(self.clerk, f"/review/{app_id}/claim")
        self.post(self.clerk, f"/review/{app_id}/decide", {**data, "decision": decision, **extra})

    def sent(self) -> list[tuple[str, str]]:
        """(template, text) of every SMS to the applicant's phone but codes, in order."""
        from sqlalchemy import select

        from app.extensions import db
        from app.sms.models import SmsMessage

        with self.app.app_context():
            rows = db.session.scalars(select(SmsMessage).where(SmsMessage.phone == self.phone)
                                      .order_by(SmsMessage.id))
            return [(m.template, m.text) for m in rows if m.template not in CODES]


def online(app) -> list[tuple[str, str]]:
    from app.applications import decisions
    from app.applications.models import Application
    from app.extensions import db

    journey = Journey(app, "13800138001")
    app_id = journey.submit()
    first, flagged, missing = journey.materials(app_id)
    journey.decide(app_id, "supplement", **{f"verdict-{flagged}": "fix",
                                            f"fix-{flagged}": "blurry",
                                            f"verdict-{missing}": "missing"})
    journey.upload(app_id, flagged)
    journey.post(journey.citizen, f"/applications/{app_id}/submit")
    with app.app_context():
        due = decisions.max_due(db.session.get(Application, app_id)).isoformat()
    journey.decide(app_id, "accept_missing", **{f"verdict-{missing}": "missing", "due": due})
    for step in ("supplied", "processing", "completed"):
        journey.post(journey.clerk, f"/review/{app_id}/{step}")
    return journey.sent()


def rejected(app) -> list[tuple[str, str]]:
    journey = Journey(app, "13800138002")
    app_id = journey.submit()
    journey.decide(app_id, "reject", reason="not_eligible")
    return journey.sent()


def check(name: str, sent: list[tuple[str, str]]) -> list[str]:
    """What the journey's SMS miss of the target."""
    templates = [t for t, _ in sent]
    missed = []
    if templates != EXPECTED[name]:
        missed.append(f"{name}: sent {templates}, expected {EXPECTED[name]}")
    if len(sent) >= BASELINE:
        missed.append(f"{name}: {len(sent)} SMS, not fewer than the {BASELINE} of before")
    if name == "online" and sent and len(LINK.findall(sent[-1][1])) < 2:
        missed.append("online: the 办结 SMS carries no rating link beside the progress link")
    return missed


def main() -> int:
    app = make_app()
    missed: list[str] = []
    counts = {}
    with time_machine.travel(WEDNESDAY, tick=True):
        for name, run in (("online", online), ("rejected", rejected)):
            sent = run(app)
            counts[name] = len(sent)
            print(f"  {name:<9} {len(sent)} SMS (codes aside; target {len(EXPECTED[name])}, "
                  f"before {BASELINE})")
            for template, text in sent:
                print(f"    {template:<22} {text[:60]}")
            missed += check(name, sent)
    for line in missed:
        print(f"  MISS {line}")
    verdict = "MISS" if missed else "OK"
    print(f"{verdict}: SMS per application online (补正→容缺受理→补齐→办结) {counts['online']}, "
          f"rejected {counts['rejected']}; target {len(EXPECTED['online'])} and "
          f"{len(EXPECTED['rejected'])}, {BASELINE} before")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
