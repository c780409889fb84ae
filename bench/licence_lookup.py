"""Licence lookup (issue 23): a provincial licence platform that is slow never holds the materials
page longer than its 2 s.

Run from the repo root: .venv/bin/python bench/licence_lookup.py [--rounds 5]

The app in its embedded mode (SQLite, jobs inline) with LICENCE_SOURCES=own,http and the default
LICENCE_LOOKUP_SECONDS (2), against the tests' fake platform (tests/fakes/licence_platform.py) on
127.0.0.1. An item has three materials that each name a licence type. Each round a new citizen
starts a draft and opens its materials page, timed in the app until the answer is ready, with the
platform answering (ok), refusing (error, 503) and never answering (slow: held until the round
is over). Target: with the platform slow, every materials page within 2.5 s (the 2 s setting
and 0.5 s for the page itself), and each of the three materials falls back to a photo with its
note; with it answering, the licence it holds stands in for its material.
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

SETTING = 2.0  # LICENCE_LOOKUP_SECONDS' default, the issue's figure
TARGET = SETTING + 0.5
TYPES = ("residence_permit", "marriage_cert", "property_cert")
ID_NUMBER = "11010519491231002X"
FALLBACK = "电子证照查询暂时不可用,请拍照上传本材料"
CARRIED = "已有电子证照,无需提交"


def make_app(platform_url: str):
    from app.factory import create_app

    uri = f"sqlite:///{tempfile.mkdtemp(prefix='palm-bench-')}/bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "REDIS_URL": None, "TESTING": False,
                      "DEBUG": False, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False, "SMS_BACKEND": "console",
                      "QUIET_HOURS": "0-0", "LICENCE_SOURCES": "own,http",
                      "LICENCE_HTTP_URL": platform_url})
    assert app.config["LICENCE_LOOKUP_SECONDS"] == SETTING, "bench the default setting"
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
    return app


def seed(app) -> str:
    """A hall and an item whose three materials each a licence type stands in for."""
    import factories
    from app.extensions import db

    with app.app_context():
        hall = factories.hall(short_name="测试大厅")
        item = factories.item(halls=[hall], materials=("居住证", "结婚证", "不动产权证书"),
                              code="BENCH-1", name="公租房申请", department="住建局")
        for material, licence_type in zip(item.materials, TYPES, strict=True):
            material.licence_type = licence_type
        db.session.commit()
        return item.code


def materials_page(app, code: str, n: int) -> tuple[float, str]:
    """A new citizen's draft: seconds until its materials page is ready, and the page."""
    import factories

    client = app.test_client()
    with app.app_context():
        factories.sign_in(client, factories.citizen(f"1370000{n:04d}", name="张三"))
    response = client.post(f"/apply/{code}")
    app_id = int(re.search(r"/applications/(\d+)/", response.location).group(1))
    client.post(f"/applications/{app_id}/applicant", data={
        "name": "张三", "id_number": ID_NUMBER, "phone": f"1370000{n:04d}"})
    client.post(f"/applications/{app_id}/consent", data={"agree": "1"})
    started = time.perf_counter()
    response = client.get(f"/applications/{app_id}/materials")
    page = response.get_data(as_text=True)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return elapsed, page


def main() -> int:
    from fakes.licence_platform import LicencePlatform

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    platform = LicencePlatform()
    missed: list[str] = []
    try:
        app = make_app(platform.url)
        code = seed(app)
        n = 0
        for mode in ("ok", "error", "slow"):
            times = []
            for _ in range(args.rounds):
                platform.reset()
                platform.mode = mode
                platform.add(ID_NUMBER, "marriage_cert", number="PROV-JH-1", holder_name="张三",
                             department="省民政厅", issued_on="2019-05-20")
                n += 1
                took, page = materials_page(app, code, n)
                platform.release()
                times.append(took)
                fell_back, carried = page.count(FALLBACK), page.count(CARRIED)
                if mode == "ok" and (carried != 1 or "PROV-JH-1" not in page):
                    missed.append(f"ok: the platform's 结婚证 did not stand in ({carried})")
                if mode != "ok" and fell_back != len(TYPES):
                    missed.append(f"{mode}: {fell_back} of {len(TYPES)} materials fell back")
                if mode == "slow" and took > TARGET:
                    missed.append(f"slow: a materials page took {took:.2f} s (> {TARGET} s)")
            print(f"  platform {mode:<5}  materials page  median {statistics.median(times):5.2f} s"
                  f"   max {max(times):5.2f} s   ({args.rounds} drafts, {len(TYPES)} materials"
                  " naming a licence type)")
    finally:
        platform.stop()
    if missed:
        print("MISSED: " + "; ".join(dict.fromkeys(missed)))
        return 1
    print(f"OK: a slow platform held the page at most {TARGET} s, and every material fell back "
          "to a photo with its note")
    return 0


if __name__ == "__main__":
    sys.exit(main())
