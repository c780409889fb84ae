"""智能预审 on generated phone photos: the worker's document reading, and the phone's own check.

Run from the repo root: .venv/bin/python bench/ocr.py [--seed N] [--threads N]

The test set is drawn here (bench/ocr_documents.py, the CJK font, no downloads): ID cards front
and back, business licences and 户口簿 pages with random people and companies whose numbers pass
their checks, photographed as phones do (tilted up to ±8°, perspective, blur, dim light, noise,
JPEG), plus wrong documents, blank pages and photos too dark or blurred to read. One worker
process (a subprocess, so its memory is its own) compresses each photo as the photo job does and
runs app.reading.services.read_bytes, the reading job's own code, then the findings against
what the applicant typed (which matches the photo for most, and differs for some).

The phone part runs static/js/applications.js's check in Debian's Chromium (Playwright) on
generated good, dark and blurred camera photos, after the page's own downscale.

Targets (issue 20): field accuracy (ID number, name, credit code) >= 95% on readable photos;
false "does not match" findings <= 2% of photos whose fields match; unreadable or wrong-document
photos flagged >= 90%; p50 <= 1.5 s a photo with one worker; phone check warns >= 90% of bad
photos and <= 5% of good ones.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ocr_documents as docs  # noqa: E402

TARGET_ACCURACY = 95.0
TARGET_FALSE_MISMATCH = 2.0
TARGET_FLAGGED = 90.0
TARGET_P50 = 1.5
TARGET_WARNED = 90.0
TARGET_GOOD_WARNED = 5.0
COUNTS = {"id_front": 45, "licence": 30, "household": 10, "id_back": 5, "wrong": 12, "blank": 8,
          "unreadable": 10}
MISMATCH_SHARE = 0.15  # of readable photos, the applicant typed something else
PHONE_PHOTOS = {"good": 40, "dark": 20, "blurred": 20}


# ---- the test set ----

def _typed(doc: docs.Document, rng: random.Random, differ: bool) -> dict:
    """What the applicant typed: the document's own values, or (differ) someone else's."""
    fields = dict(doc.fields)
    if doc.kind == "business_licence":
        if differ:
            fields["credit_code"] = docs.credit_code(rng)
        return {"answer:credit_code": fields["credit_code"],
                "answer:company_name": fields["company_name"]}
    if differ:
        fields["id_number"] = docs.id_number(rng)
    return {"applicant_name": fields.get("name") or docs.person_name(rng),
            "id_number": fields.get("id_number") or docs.id_number(rng)}


def _wrong(rng: random.Random) -> tuple[docs.Document, str]:
    """A photo of the wrong paper for the material: (document, what the material is)."""
    choice = rng.randrange(6)
    if choice == 0:
        return docs.business_licence(rng), "id_card"
    if choice == 1:
        return docs.id_card_front(rng), "business_licence"
    if choice == 2:
        return docs.household_page(rng), "id_card"
    if choice == 3:
        return docs.bank_card(rng), "id_card"
    return docs.other_paper(rng), rng.choice(["id_card", "business_licence",
                                              "household_register"])


def build_set(rng: random.Random, folder: Path) -> list[dict]:
    """Draw and photograph every case; a manifest entry per photo."""
    makers = {"id_front": docs.id_card_front, "licence": docs.business_licence,
              "household": docs.household_page, "id_back": docs.id_card_back}
    entries = []
    for category, count in COUNTS.items():
        for n in range(count):
            hard = category == "unreadable"
            if category in makers:
                doc, expected = makers[category](rng), None
            elif category == "wrong":
                doc, expected = _wrong(rng)
            elif category == "blank":
                doc, expected = docs.blank_page(rng), rng.choice(["id_card", "business_licence"])
            else:
                doc = rng.choice([docs.id_card_front, docs.business_licence])(rng)
                expected = None
            expected = expected or doc.kind
            differ = category in makers and doc.fields and rng.random() < MISMATCH_SHARE
            shot = docs.random_shot(rng, hard=hard)
            path = folder / f"{category}-{n:03d}.jpg"
            path.write_bytes(docs.photograph(doc, shot, rng))
            entries.append({"path": str(path), "category": category, "expected": expected,
                            "truth": doc.fields if doc.kind == expected else {},
                            "typed": _typed(doc, rng, bool(differ)), "differ": bool(differ),
                            "shot": shot.__dict__})
    return entries


# ---- one worker process ----

def worker(manifest: Path, out: Path, threads: int) -> None:
    """Read every photo as the worker does; write results and this process's peak memory."""
    from app.reading import engine, findings, kinds
    from app.reading.services import read_bytes
    from app.uploads.imaging import compress

    started = time.perf_counter()
    engine.preload(threads)
    load_seconds = time.perf_counter() - started
    results = []
    for entry in json.loads(manifest.read_text()):
        data = compress(Path(entry["path"]).read_bytes()).image_bytes
        began = time.perf_counter()
        reading, issues = read_bytes(data, entry["expected"], threads)
        seconds = time.perf_counter() - began
        kind = kinds.get(entry["expected"])
        fields = reading.fields if reading.kind == kind.code else {}
        found = findings.evaluate(kind, {1: (issues, fields)}, entry["typed"])[1]
        results.append({**entry, "seconds": seconds, "fields": fields, "kind": reading.kind,
                        "findings": [f.code for f in found]})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps({"results": results, "peak_mb": peak_mb, "load": os.getloadavg()[0],
                               "load_seconds": load_seconds}, ensure_ascii=False))


# ---- figures ----

def percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else float("nan")


def reading_figures(results: list[dict]) -> dict:
    readable = [r for r in results if r["category"] in ("id_front", "licence", "household",
                                                        "id_back")]
    accuracy = {}
    for key in ("id_number", "name", "credit_code", "company_name"):
        holding = [r for r in readable if key in r["truth"]]
        right = [r for r in holding if r["fields"].get(key) == r["truth"][key]]
        accuracy[key] = (len(right), len(holding))
    matching = [r for r in readable if not r["differ"]]
    false_mismatch = [r for r in matching if "mismatch" in r["findings"]]
    differing = [r for r in readable if r["differ"]]
    caught = [r for r in differing if "mismatch" in r["findings"]]
    bad = [r for r in results if r["category"] in ("wrong", "blank", "unreadable")]
    flagged = [r for r in bad if r["findings"]]
    readable_flagged = [r for r in readable if set(r["findings"]) - {"mismatch"}]
    seconds = sorted(r["seconds"] for r in results)
    return {"accuracy": accuracy, "false_mismatch": (len(false_mismatch), len(matching)),
            "caught": (len(caught), len(differing)), "flagged": (len(flagged), len(bad)),
            "readable_flagged": (len(readable_flagged), len(readable)),
            "p50": statistics.median(seconds),
            "p95": seconds[min(len(seconds) - 1, int(round(0.95 * (len(seconds) - 1))))],
            "misses": [r for r in readable if any(r["fields"].get(k) != v
                                                  for k, v in r["truth"].items())],
            "unflagged": [r for r in bad if not r["findings"]]}


# ---- the phone's check in Chromium ----

def _motion(data: bytes, rng: random.Random) -> bytes:
    """A hand that moved: the photo smeared along one direction."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(data))
    length, angle = rng.randint(24, 60), rng.uniform(0, 3.1416)
    import math

    steps = range(0, length, 3)
    out = image
    for n, d in enumerate(steps, 1):
        dx, dy = d * math.cos(angle), d * math.sin(angle)
        moved = image.transform(image.size, Image.Transform.AFFINE, (1, 0, dx, 0, 1, dy))
        out = Image.blend(out, moved, 1 / (n + 1))
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=88)
    return buf.getvalue()


def phone_set(rng: random.Random) -> list[tuple[str, bytes]]:
    """Camera photos (3000 px, before the page's downscale): good, dark and blurred."""
    makers = [docs.id_card_front, docs.business_licence, docs.household_page, docs.other_paper]
    photos = []
    for label, count in PHONE_PHOTOS.items():
        for n in range(count):
            shot = docs.Shot(tilt=rng.uniform(-8, 8), skew=rng.uniform(0, 0.05),
                             blur=rng.uniform(0, 1.2), light=rng.uniform(0.6, 1.0), quality=88,
                             fill=rng.uniform(0.6, 0.9))
            if label == "dark":
                shot.light = rng.uniform(0.1, 0.3)
            if label == "blurred" and n % 2 == 0:
                shot.blur = rng.uniform(4, 10)
            data = docs.photograph(rng.choice(makers)(rng), shot, rng, edge=3000)
            if label == "blurred" and n % 2 == 1:
                data = _motion(data, rng)
            photos.append((label, data))
    return photos


MEASURE = """async (url) => {
  const blob = await (await fetch(url)).blob();
  const file = new File([blob], "photo.jpg", {type: "image/jpeg"});
  const sent = await PalmPhotoCheck.shrink(file);
  const m = await PalmPhotoCheck.measure(sent);
  return {m: m, issues: PalmPhotoCheck.issues(m)};
}"""


def phone_figures(rng: random.Random) -> dict:
    from playwright.sync_api import sync_playwright

    photos = phone_set(rng)

    def serve(route):
        url = route.request.url
        if "/photo/" in url:
            route.fulfill(body=photos[int(url.rsplit("/", 1)[1])][1], content_type="image/jpeg")
        else:
            route.fulfill(body="<!doctype html><title>bench</title>", content_type="text/html")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.route("http://bench.test/**", serve)
        page.goto("http://bench.test/")
        page.add_script_tag(path=str(ROOT / "static/js/applications.js"))
        results = [(label, page.evaluate(MEASURE, f"http://bench.test/photo/{n}"))
                   for n, (label, _) in enumerate(photos)]
        browser.close()
    good = [r for label, r in results if label == "good"]
    bad = [(label, r) for label, r in results if label != "good"]
    return {"good_warned": (sum(1 for r in good if r["issues"]), len(good)),
            "bad_warned": (sum(1 for _, r in bad if r["issues"]), len(bad)),
            "dark_warned": (sum(1 for label, r in bad if label == "dark" and r["issues"]),
                            PHONE_PHOTOS["dark"]),
            "blurred_warned": (sum(1 for label, r in bad if label == "blurred" and r["issues"]),
                               PHONE_PHOTOS["blurred"]),
            "sharpness_good_min": min(r["m"]["sharpness"] for r in good),
            "sharpness_blurred_max": max(r["m"]["sharpness"] for label, r in bad
                                         if label == "blurred"),
            "brightness_good_min": min(r["m"]["brightness"] for r in good),
            "brightness_dark_max": max(r["m"]["brightness"] for label, r in bad
                                       if label == "dark")}


# ---- a printed page, photographed through Chromium ----

PRINTED = """<!doctype html><meta charset="utf-8"><style>
@font-face { font-family: cjk; src: url("http://bench.test/font.ttc"); }
body { margin: 0; width: 1500px; height: 2000px; overflow: hidden; font-family: cjk;
       background: radial-gradient(circle at 30% 20%, #9c8466, #5b4a37 70%); }
.page { position: absolute; left: 190px; top: 260px; width: 1100px; height: 1500px;
        background: #f7f5ef; box-shadow: 0 30px 60px rgba(0,0,0,.5);
        transform: perspective(1600px) rotateX(11deg) rotateY(-7deg) rotateZ(-4deg);
        filter: blur(0.7px) brightness(0.82) contrast(0.92); }
.page::after { content: ""; position: absolute; inset: 0;
               background: linear-gradient(120deg, rgba(255,255,255,.18), rgba(0,0,0,.22)); }
.card { position: absolute; left: 120px; width: 856px; height: 540px; border-radius: 28px;
        background: #e4ebf1; border: 1px solid #b9c4cf; }
.l { position: absolute; font-size: 22px; color: #3c5a8c; }
.v { position: absolute; font-size: 30px; color: #18181c; }
</style><div class="page">
<div class="card" style="top: 120px">FRONT
 <div style="position:absolute;left:600px;top:60px;width:200px;height:260px;background:#ccc"></div>
</div>
<div class="card" style="top: 760px">BACK</div></div>"""
# (label or value, left, top, text, extra style) on the card's front and back.
FRONT = [("l", 50, 56, "姓名"), ("v", 130, 48, "NAME"), ("l", 50, 118, "性别"),
         ("v", 130, 110, "男"), ("l", 230, 118, "民族"), ("v", 310, 110, "汉"),
         ("l", 50, 180, "出生"),
         ("v", 130, 172, "BORN"), ("l", 50, 242, "住址"), ("v", 130, 234, "内蒙古自治区乌兰浩特市"),
         ("v", 130, 278, "兴安北大路68号"), ("l", 50, 446, "公民身份号码"),
         ("v", 250, 436, "NUMBER", "font-size:34px")]
BACK = [("v", 290, 60, "中华人民共和国", "font-size:44px"),
        ("v", 300, 140, "居民身份证", "font-size:56px"), ("l", 150, 366, "签发机关"),
        ("v", 300, 358, "乌兰浩特市公安局"), ("l", 150, 436, "有效期限"),
        ("v", 300, 428, "2016.05.17-2036.05.17")]


def _spans(cells: list[tuple]) -> str:
    return "".join(f'<span class="{c[0]}" style="left:{c[1]}px;top:{c[2]}px;'
                   f'{c[4] if len(c) > 4 else ""}">{c[3]}</span>' for c in cells)


def printed_page(seed: int) -> dict:
    """An ID card copied onto A4 (front and back), as HTML with the CJK font, turned in 3D,
    blurred and dimmed by CSS, and taken as a JPEG screenshot in Chromium: a phone photo of a
    printed page, drawn by a browser's text engine rather than Pillow's."""
    from playwright.sync_api import sync_playwright

    from app.reading.services import read_bytes
    from app.uploads.imaging import compress

    rng = random.Random(seed)
    name, number = docs.person_name(rng), docs.id_number(rng)
    born = f"{number[6:10]} 年 {int(number[10:12])} 月 {int(number[12:14])} 日"
    html = PRINTED.replace("FRONT", _spans(FRONT)).replace("BACK", _spans(BACK))
    html = html.replace("NAME", name).replace("NUMBER", number).replace("BORN", born)
    font = docs.CJK_FONT.read_bytes()

    def serve(route):
        if route.request.url.endswith("font.ttc"):
            route.fulfill(body=font, content_type="font/collection")
        else:
            route.fulfill(body=html, content_type="text/html; charset=utf-8")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1500, "height": 2000})
        page.route("http://bench.test/**", serve)
        page.goto("http://bench.test/")
        page.evaluate("document.fonts.ready")
        shot = page.screenshot(type="jpeg", quality=80)
        browser.close()
    from app.reading import engine

    data = compress(shot).image_bytes
    engine.preload()
    began = time.perf_counter()
    reading, issues = read_bytes(data, "id_card")
    return {"photo": shot, "truth": {"name": name, "id_number": number}, "read": reading.fields,
            "kind": reading.kind, "issues": issues, "seconds": time.perf_counter() - began}


# ---- main ----

def _line(label: str, pair: tuple[int, int]) -> str:
    return f"{label}: {pair[0]}/{pair[1]} = {percent(*pair):.1f}%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads (OCR_THREADS)")
    parser.add_argument("--edge", type=int, default=0, help="read at this long edge (tuning)")
    parser.add_argument("--keep", help="keep the photos and results in this folder")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.edge:
        from app.reading import engine

        engine.LONG_EDGE = args.edge
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]), args.threads)
        return 0
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        entries = build_set(rng, folder)
        print(f"drew and photographed {len(entries)} photos in "
              f"{time.perf_counter() - started:.0f} s (seed {args.seed})")
        manifest, out = folder / "manifest.json", folder / "results.json"
        manifest.write_text(json.dumps(entries, ensure_ascii=False))
        subprocess.run([sys.executable, __file__, "--threads", str(args.threads),
                        "--edge", str(args.edge), "--worker",
                        str(manifest), str(out)], check=True, cwd=ROOT)
        run = json.loads(out.read_text())
    figures = reading_figures(run["results"])
    phone = phone_figures(random.Random(args.seed + 1))
    printed = printed_page(args.seed + 2)
    if args.keep:
        (Path(args.keep) / "printed-page.jpg").write_bytes(printed["photo"])

    print("\n== reading in the worker (one process, "
          f"{args.threads} onnxruntime threads) ==")
    for key, pair in figures["accuracy"].items():
        print("  " + _line(f"field accuracy, {key}", pair))
    print("  " + _line('false "does not match" on matching photos', figures["false_mismatch"]))
    print("  " + _line("real differences found", figures["caught"]))
    print("  " + _line("unreadable, wrong or blank photos flagged", figures["flagged"]))
    print("  " + _line("readable photos flagged as unclear or wrong", figures["readable_flagged"]))
    print(f"  seconds a photo: p50 {figures['p50']:.2f}, p95 {figures['p95']:.2f} "
          f"(engine load {run['load_seconds']:.2f} s, once per process)")
    print(f"  peak memory of the worker: {run['peak_mb']:.0f} MB; machine load average "
          f"{run['load']:.1f} on {os.cpu_count()} cores (shared: other work slows the figures)")
    for miss in figures["misses"][:8]:
        wrong = {k: (v, miss["fields"].get(k)) for k, v in miss["truth"].items()
                 if miss["fields"].get(k) != v}
        print(f"    miss {Path(miss['path']).name}: {wrong} {miss['findings']}")
    for miss in figures["unflagged"][:8]:
        print(f"    not flagged {Path(miss['path']).name}: read as {miss['kind']}")
    agrees = printed["read"] == printed["truth"]
    print("\n== a printed page photographed through Chromium (CSS 3D turn, blur, dim light) ==")
    print(f"  read as {printed['kind']}: {printed['read']} in {printed['seconds']:.2f} s; "
          f"{'the same as printed' if agrees else 'printed: ' + str(printed['truth'])}"
          f"{'; issues ' + str(printed['issues']) if printed['issues'] else ''}")
    print("\n== the phone's check in Chromium ==")
    print("  " + _line("bad photos warned", phone["bad_warned"]))
    print("  " + _line("  dark", phone["dark_warned"]) + "; " + _line("blurred",
                                                                     phone["blurred_warned"]))
    print("  " + _line("good photos warned", phone["good_warned"]))
    print(f"  sharpness: good from {phone['sharpness_good_min']}, blurred up to "
          f"{phone['sharpness_blurred_max']}; brightness: good from "
          f"{phone['brightness_good_min']}, dark up to {phone['brightness_dark_max']}")

    accuracy = min(percent(*figures["accuracy"][k]) for k in ("id_number", "name", "credit_code"))
    checks = {
        f"accuracy {accuracy:.1f}% >= {TARGET_ACCURACY}%": accuracy >= TARGET_ACCURACY,
        f"false mismatch {percent(*figures['false_mismatch']):.1f}% <= {TARGET_FALSE_MISMATCH}%":
            percent(*figures["false_mismatch"]) <= TARGET_FALSE_MISMATCH,
        f"flagged {percent(*figures['flagged']):.1f}% >= {TARGET_FLAGGED}%":
            percent(*figures["flagged"]) >= TARGET_FLAGGED,
        f"p50 {figures['p50']:.2f} s <= {TARGET_P50} s": figures["p50"] <= TARGET_P50,
        f"phone warned {percent(*phone['bad_warned']):.0f}% >= {TARGET_WARNED}%":
            percent(*phone["bad_warned"]) >= TARGET_WARNED,
        f"good warned {percent(*phone['good_warned']):.0f}% <= {TARGET_GOOD_WARNED}%":
            percent(*phone["good_warned"]) <= TARGET_GOOD_WARNED,
    }
    missed = [name for name, ok in checks.items() if not ok]
    print(f"\nSUMMARY: {'PASS' if not missed else 'FAIL'} - " + "; ".join(checks)
          + (f" (missed: {', '.join(missed)})" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
