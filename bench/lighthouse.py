"""Lighthouse scores of five pages as a signed-in citizen sees them; called by bench/lighthouse.sh.

Starts nginx (deploy/nginx.conf's site) and gunicorn (deploy/gunicorn.conf.py) on a fresh
PostgreSQL database (BENCH_DB, default `palm_bench_lighthouse`; Redis BENCH_REDIS, default db 10,
flushed) with the demo data (bench/stack.py), signs a citizen in through the real pages, books a
slot and starts an application, then runs Lighthouse (bench/lighthouse/node_modules, Debian's
Chromium through CHROME_PATH) in its default mobile mode (a mid-range phone on slow 4G,
simulated) on: home, a guide, the booking page, the upload page and the booking's timeline.

Each page is measured --runs times (default 3) and the median performance score is kept, as
Lighthouse's own docs advise; accessibility and best practices don't vary between runs.
Targets (issue 11): performance >= 95, accessibility 100, best practices 100 on every page.
Exits 1 when any page misses one. Reports are saved under bench/out/lighthouse/.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import journey  # noqa: E402
from stack import Stack  # noqa: E402

# Its own database and Redis db, beside the tests' and the other benches' (journey's db 9,
# lookup_timing's 12, sms_throughput's 8): running it clobbers nothing else.
journey.DB = os.environ.get("BENCH_DB", "palm_bench_lighthouse")
journey.REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/10")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100}
LIGHTHOUSE = ROOT / "bench/lighthouse/node_modules/.bin/lighthouse"
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage "
                "--disable-background-networking --disable-component-update --disable-sync "
                "--no-first-run")


async def signed_in_pages(base: str, database: str) -> tuple[str, dict[str, str]]:
    """Sign a citizen in, book a slot, start an application: the cookie and the five paths."""
    phone = journey.Phone(base, 1, database, journey.phone_photos(2), random.Random(3))
    phone.client.headers.pop("X-Forwarded-For")
    await phone.sign_in()
    await phone.book()
    await phone.upload()
    await phone.compress()
    cookie = "; ".join(f"{c.name}={c.value}" for c in phone.client.cookies.jar)
    app_path = (await phone.client.get("/applications")).text
    draft = journey.re.search(r"/applications/(\d+)", app_path).group(1)
    await phone.client.aclose()
    return cookie, {"home": "/", "guide": "/services/SC-003", "booking": "/book/HJ-002",
                    "upload": f"/applications/{draft}/materials",
                    "timeline": f"/progress/booking/{phone.booking_id}"}


def lighthouse(url: str, cookie: str, out: Path) -> dict[str, int]:
    env = os.environ | {"CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run(
        [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
         "--only-categories=performance,accessibility,best-practices",
         f"--chrome-flags={CHROME_FLAGS}", f"--extra-headers={json.dumps({'Cookie': cookie})}"],
        env=env, check=True, capture_output=True, timeout=180)
    report = json.loads(out.read_text())
    scores = {k: round(v["score"] * 100) for k, v in report["categories"].items()}
    scores["failing"] = [a["id"] for a in report["audits"].values()
                         if a.get("score") is not None and a["score"] < 1
                         and a.get("scoreDisplayMode") == "binary"]
    scores["lcp_ms"] = round(report["audits"]["largest-contentful-paint"]["numericValue"])
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    out_dir = ROOT / "bench/out/lighthouse"
    out_dir.mkdir(parents=True, exist_ok=True)
    database = journey.fresh_database()
    env = journey.app_env(database)
    env.pop("REDIS_URL")  # jobs inline: the photos are compressed before the page is scored
    env["PROXY_FIX"] = "0"
    journey.prepare(env | {"REDIS_URL": journey.REDIS})
    stack = Stack(workers=0, log=ROOT / "bench/out/lighthouse-server.log").start(env)
    failed = []
    try:
        base = stack.base  # nginx with deploy/nginx.conf's site (gzip, static), as deployed
        cookie, pages = asyncio.run(signed_in_pages(base, database))
        print(f"Lighthouse {lighthouse_version()} mobile, median of {args.runs} runs; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'page':10} {'perf':>5} {'a11y':>5} {'best':>5} {'LCP ms':>7}  failing audits")
        for name, path in pages.items():
            runs = [lighthouse(base + path, cookie, out_dir / f"{name}-{n}.json")
                    for n in range(args.runs)]
            perf = statistics.median(r["performance"] for r in runs)
            a11y = min(r["accessibility"] for r in runs)
            best = min(r["best-practices"] for r in runs)
            lcp = statistics.median(r["lcp_ms"] for r in runs)
            failing = sorted({a for r in runs for a in r["failing"]})
            print(f"{name:10} {perf:>5.0f} {a11y:>5} {best:>5} {lcp:>7.0f}  "
                  f"{', '.join(failing) or '-'}")
            for category, score in (("performance", perf), ("accessibility", a11y),
                                    ("best-practices", best)):
                if score < TARGETS[category]:
                    failed.append(f"{name} {category} {score:.0f}")
    finally:
        stack.stop()
    print(("PASS: every page meets performance >= 95, accessibility 100, best practices 100"
           if not failed else "FAIL: " + "; ".join(failed)))
    return 1 if failed else 0


def lighthouse_version() -> str:
    return subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True,
                          text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
