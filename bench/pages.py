"""Catalog pages under load: gunicorn (2 sync workers) on PostgreSQL, against a bare Flask page.

Run from the repo root: .venv/bin/python bench/pages.py [--seconds N]

Starts two gunicorns on 127.0.0.1 (the app on a fresh `palm_bench_pages` database with the demo
catalog plus filler items, and a bare Flask app that renders a 14 KB template), drives each page
with 50 concurrent keep-alive connections from an asyncio load generator, and prints req/s, p50 and
p99. Then it measures what the first load of a guide page transfers gzipped (HTML, CSS and every
script), since the app does not gzip: nginx does, at the level our site sets
(deploy/nginx.conf: gzip_comp_level 6).

Targets (issue 3): every app page reaches 60% of the baseline's req/s with p99 under 50 ms, and the
guide's first load is under 30 KB gzipped. Exits 1 when any is missed.

To bench another page, add one Page(...) to PAGES.
"""

import argparse
import asyncio
import gzip
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB = "palm_bench_pages"
CONNECTIONS = 50
WORKERS = 2
MIN_SHARE = 0.60
MAX_P99_MS = 50
MAX_FIRST_LOAD_KB = 30
FILLER_ITEMS = 300  # the catalog is "a few hundred rows at most"
GZIP_LEVEL = 6  # deploy/nginx.conf's gzip_comp_level


@dataclass
class Page:
    """One page to drive: `server` is "app" or "baseline"; `headers` are sent with each request."""

    name: str
    path: str
    server: str = "app"
    headers: tuple = ()
    target: bool = True  # held to the speed targets


PAGES = [
    Page("baseline (bare Flask, 14 KB template)", "/", server="baseline", target=False),
    Page("app shell /offline (no catalog, reference)", "/offline", target=False),
    Page("home", "/"),
    Page("guide /services/SC-003", "/services/SC-003"),
    Page("search /services?q=饭店", "/services?q=" + quote("饭店")),
    Page("live search (htmx fragment)", "/services?q=" + quote("饭店"),
         headers=(("HX-Request", "true"),)),
    Page("bundle /bundles/YJS-KFD", "/bundles/YJS-KFD"),
]
GUIDE = "/services/SC-003"

BASELINE_APP = '''
from flask import Flask, render_template
app = Flask(__name__)
ROWS = [{"name": f"事项 {n}", "dept": "市场监督管理局", "days": n % 7} for n in range(40)]

@app.get("/")
def page():
    return render_template("page.html", title="基线页面", rows=ROWS)
'''


def baseline_template() -> str:
    """A plain page of about 14 KB, with a loop and variables like a real one."""
    head = ("<!doctype html><html lang=zh-CN><head><meta charset=utf-8><title>{{ title }}"
            "</title></head><body><h1>{{ title }}</h1><ul>{% for r in rows %}<li><a href=\"/s/"
            "{{ loop.index }}\">{{ r.name }}</a> {{ r.dept }} · 承诺 {{ r.days }} 个工作日</li>"
            "{% endfor %}</ul>")
    filler = "<p>政务服务中心提供办事指南、预约、拍照预审、进度查询和好差评服务。</p>\n"
    body = head
    while len(body.encode()) < 14 * 1024 - 20:
        body += filler
    return body + "</body></html>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database() -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    return f"{PG}/{DB}"


def filler_catalog() -> str:
    """Extra items so search and popularity work over a catalog of realistic size."""
    import yaml

    topics = ["户籍", "不动产", "市场主体", "社保", "医保", "卫生健康", "消防"]
    items = [{"code": f"FILL-{n:03d}", "name": f"示例事项{n}号登记",
              "department": f"示例部门{n % 9}", "topic": topics[n % len(topics)],
              "keywords": f"示例 关键词{n}",
              "summary": "用于压测的示例事项。", "steps": ["提交申请", "审核", "办结"],
              "halls": ["乌兰浩特市政务服务中心"],
              "materials": [{"name": f"示例材料{m}"} for m in range(4)]}
             for n in range(FILLER_ITEMS)]
    return yaml.safe_dump({"items": items}, allow_unicode=True)


def app_env(database: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FLASK_DEBUG")}
    env |= {"DATABASE_URL": database, "FLASK_APP": "wsgi.py", "FLASK_DEBUG": "0",
            "SECRET_KEY": "bench-pages", "APP_ENV": "development"}
    return env


def prepare_database(env: dict) -> None:
    flask = str(ROOT / ".venv/bin/flask")
    for args in (["db", "upgrade", "heads"], ["demo", "load"]):
        subprocess.run([flask, *args], cwd=ROOT, env=env, check=True, capture_output=True)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(filler_catalog())
    try:
        subprocess.run([flask, "catalog", "import", f.name], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    finally:
        os.unlink(f.name)


def start_gunicorn(app: str, port: int, cwd: Path, env: dict) -> subprocess.Popen:
    # The app logs a line per request (app/ops): to a file, since a pipe nobody reads fills up
    # after a few hundred requests and then blocks every worker.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(WORKERS), "-k", "sync", "-b",
         f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning", app],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                log.seek(0)
                sys.exit(f"gunicorn {app} exited: {log.read().decode()[-2000:]}")
            time.sleep(0.2)
    proc.kill()
    sys.exit(f"gunicorn {app} did not start")


async def _one(reader, writer, request: bytes) -> bool:
    """Send one request and read the whole response; False when the server closes after it."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        raise RuntimeError(f"HTTP {status}")
    length = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
    if length is None:
        raise RuntimeError("no Content-Length")
    await reader.readexactly(int(length.group(1)))
    return not re.search(rb"\r\nconnection: *close", head, re.I)


async def _client(port: int, request: bytes, until: float, warm_until: float,
                  latencies: list) -> None:
    reader = writer = None
    while True:
        started = time.perf_counter()
        if started >= until:
            break
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        keep = await _one(reader, writer, request)
        done = time.perf_counter()
        if started >= warm_until:
            latencies.append(done - started)
        if not keep:  # gunicorn's sync workers close after each response
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _drive(port: int, page: Page, seconds: float, warmup: float) -> tuple[list, float]:
    extra = "".join(f"{k}: {v}\r\n" for k, v in page.headers)
    request = (f"GET {page.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}"
               "Accept: text/html\r\nConnection: keep-alive\r\n\r\n").encode()
    latencies: list[float] = []
    start = time.perf_counter()
    warm_until, until = start + warmup, start + warmup + seconds
    await asyncio.gather(*(_client(port, request, until, warm_until, latencies)
                           for _ in range(CONNECTIONS)))
    return latencies, time.perf_counter() - warm_until


def drive_all(ports: dict, seconds: float, rounds: int, warmup: float = 0.5) -> list:
    """Drive every page in turn, in several short rounds, so that background load on a shared
    machine falls on the baseline and the pages alike."""
    samples = {page.name: ([], 0.0) for page in PAGES}
    for _ in range(rounds):
        for page in PAGES:
            latencies, elapsed = asyncio.run(_drive(ports[page.server], page, seconds / rounds,
                                                    warmup))
            done, spent = samples[page.name]
            samples[page.name] = (done + latencies, spent + elapsed)
    results = []
    for page in PAGES:
        latencies, elapsed = samples[page.name]
        latencies.sort()
        results.append((page, {"rps": len(latencies) / elapsed,
                               "p50": statistics.median(latencies) * 1000,
                               "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000}))
    return results


def first_load(port: int) -> tuple[int, list[tuple[str, int, int]]]:
    """Bytes a phone downloads for its first guide page: HTML, then the CSS and scripts it names."""
    base = f"http://127.0.0.1:{port}"
    html = urllib.request.urlopen(base + GUIDE).read()
    parts = [(GUIDE, html)]
    assets = re.findall(rb'<link rel="stylesheet" href="([^"]+)"', html)
    assets += re.findall(rb'<script src="([^"]+)"', html)
    for href in assets:
        url = href.decode().replace("&amp;", "&")
        parts.append((url.split("?")[0], urllib.request.urlopen(base + url).read()))
    rows = [(name, len(body), len(gzip.compress(body, GZIP_LEVEL)), len(gzip.compress(body, 6)))
            for name, body in parts]
    return sum(z for _, _, z, _ in rows), rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12, help="measured seconds per page")
    parser.add_argument("--rounds", type=int, default=6, help="rounds the seconds are split into")
    args = parser.parse_args()

    env = app_env(fresh_database())
    prepare_database(env)
    app_port, base_port = free_port(), free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    (tmp / "templates").mkdir()
    (tmp / "templates/page.html").write_text(baseline_template(), encoding="utf-8")
    (tmp / "baseline.py").write_text(BASELINE_APP, encoding="utf-8")
    servers = {"app": start_gunicorn("wsgi:app", app_port, ROOT, env),
               "baseline": start_gunicorn("baseline:app", base_port, tmp, env)}
    ports = {"app": app_port, "baseline": base_port}
    try:
        template_kb = len(baseline_template().encode()) / 1024
        print(f"{WORKERS} sync workers each, {CONNECTIONS} connections, {args.seconds:g} s per "
              f"page in {args.rounds} rounds; baseline template {template_kb:.1f} KB; "
              f"{os.cpu_count()} CPUs shared with the load generator")
        print(f"{'page':42} {'req/s':>8} {'share':>6} {'p50 ms':>7} {'p99 ms':>7}  verdict")
        failures = []
        results = drive_all(ports, args.seconds, args.rounds)
        baseline = next(r for p, r in results if p.server == "baseline")["rps"]
        for page, r in results:
            share = r["rps"] / baseline
            ok = not page.target or (share >= MIN_SHARE and r["p99"] < MAX_P99_MS)
            if not ok:
                failures.append(page.name)
            verdict = "-" if not page.target else ("ok" if ok else "MISSED")
            print(f"{page.name:42} {r['rps']:8.0f} {share:6.0%} {r['p50']:7.1f} "
                  f"{r['p99']:7.1f}  {verdict}")
        total, rows = first_load(app_port)
        print(f"\nfirst load of {GUIDE} (the app does not gzip; gzip level {GZIP_LEVEL} as "
              "deploy/nginx.conf sends it):")
        for name, raw, zipped, zipped6 in rows:
            print(f"  {name:40} {raw / 1024:7.1f} KB raw {zipped / 1024:6.1f} KB gzipped "
                  f"({zipped6 / 1024:.1f} KB at level 6)")
        print(f"  {'total':40} {sum(r[1] for r in rows) / 1024:7.1f} KB raw "
              f"{total / 1024:6.1f} KB gzipped ({sum(r[3] for r in rows) / 1024:.1f} KB at "
              "level 6)")
        if total > MAX_FIRST_LOAD_KB * 1024:
            failures.append("first load size")
        worst = max((r for p, r in results if p.target), key=lambda r: r["p99"])
        lowest = min(r["rps"] / baseline for p, r in results if p.target)
        print(f"\nSUMMARY: baseline {baseline:.0f} req/s; lowest page share {lowest:.0%} "
              f"(target ≥{MIN_SHARE:.0%}); worst p99 {worst['p99']:.1f} ms (target "
              f"<{MAX_P99_MS} ms); guide first load {total / 1024:.1f} KB gzipped (target "
              f"<{MAX_FIRST_LOAD_KB} KB): "
              f"{'PASS' if not failures else 'FAIL: ' + ', '.join(failures)}")
        return 1 if failures else 0
    finally:
        for proc in servers.values():
            proc.terminate()
        for proc in servers.values():
            proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
