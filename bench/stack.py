"""The production stack of deploy/ on this machine, for benchmarks: nginx with deploy/nginx.conf's
site in front, gunicorn with deploy/gunicorn.conf.py, `flask worker` processes and one
`flask scheduler`, as the systemd units run them; and the CPU they (and PostgreSQL and Redis) use.

The nginx site is deploy/nginx.conf's own HTTPS server block, served over plain HTTP on a spare
port: TLS lines dropped, the app's address, the static folder and the cache folder put in, and
X-Forwarded-For passed on as the simulated phone sent it (each phone plays its own address, which
nginx's $remote_addr would be in production).
"""

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import procstat
from pages import ensure_nginx, free_port, marked

ROOT = Path(__file__).resolve().parent.parent


def nginx_site(port: int, app_port: int, tmp: Path, root: Path = ROOT) -> str:
    conf = (root / "deploy/nginx.conf").read_text(encoding="utf-8")
    cache = marked(conf, "page cache").replace("/var/cache/nginx/palm", str(tmp / "cache"))
    server = conf[conf.index("server {\n    listen 443"):]
    server = re.sub(r"^\s*(listen 443|http2|ssl_|server_name|access_log /)[^;]*;\n", "", server,
                    flags=re.M)
    server = server.replace("server {", f"server {{\n    listen 127.0.0.1:{port} backlog=4096;"
                            "\n    access_log off;", 1)
    server = (server.replace("127.0.0.1:8000", f"127.0.0.1:{app_port}")
              .replace("/srv/palm/static/", f"{root}/static/")
              .replace("$proxy_add_x_forwarded_for", "$http_x_forwarded_for"))
    return f"""
user root;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    {cache}
    {server}
}}
"""


class Stack:
    """Start with .start(env); .base is the address phones use; .stop() ends it all.

    `root` is the app's tree: this checkout, or another revision unpacked for a baseline
    (bench/journey.py --baseline), run with this checkout's venv and its own deploy/ files."""

    def __init__(self, workers: int = 2, log: Path = ROOT / "bench/out/stack.log",
                 root: Path = ROOT):
        self.workers, self.log_path, self.root = workers, log, root
        self.procs: dict[str, subprocess.Popen] = {}
        self.tmp = Path(tempfile.mkdtemp(prefix="palm-stack-"))
        self.app_port, self.port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self, env: dict) -> "Stack":
        log = open(self.log_path, "w")  # noqa: SIM115 - open as long as the processes run
        flask = str(ROOT / ".venv/bin/flask")
        # Logging as deploy/palm.env.example sets it (LOG_FORMAT=json): one JSON line per request
        # from the app, and no gunicorn access line (the config turns it off, and its logger
        # builds none). No access-log flag here either, as production passes none.
        env = {"LOG_FORMAT": "json", **env}
        self.procs["gunicorn"] = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", "-b",
             f"127.0.0.1:{self.app_port}", "wsgi:app"],
            cwd=self.root, env=env, stdout=log, stderr=log)
        for n in range(self.workers):  # as deploy/systemd/palm-worker@.service runs them
            self.procs[f"worker{n + 1}"] = subprocess.Popen(
                [flask, "worker", "--no-fork", "--worker-ttl", "60", "--maintenance-interval",
                 "60"], cwd=self.root, env=env, stdout=log, stderr=log)
        self.procs["scheduler"] = subprocess.Popen([flask, "scheduler"], cwd=self.root, env=env,
                                                   stdout=log, stderr=log)
        (self.tmp / "nginx.conf").write_text(nginx_site(self.port, self.app_port, self.tmp,
                                                        self.root),
                                             encoding="utf-8")
        self.procs["nginx"] = subprocess.Popen(
            [ensure_nginx(), "-p", str(self.tmp), "-c", str(self.tmp / "nginx.conf"),
             "-g", "daemon off;"], stdout=log, stderr=log)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if any(p.poll() is not None for p in self.procs.values()):
                break
            time.sleep(0.3)
        self.stop()
        sys.exit(f"the stack did not start; see {self.log_path}")

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def roots(self) -> dict[str, set[int]]:
        """The process trees whose CPU is the server's: everything but the load generator."""
        servers = procstat.by_name("postgres", "redis-server")
        table = procstat.processes()
        return {"gunicorn": {self.procs["gunicorn"].pid},
                "workers": {p.pid for name, p in self.procs.items() if name.startswith("worker")},
                "scheduler": {self.procs["scheduler"].pid},
                "nginx": {self.procs["nginx"].pid},
                "postgresql": {pid for pid in servers if table[pid][0] == "postgres"},
                "redis": {pid for pid in servers if table[pid][0] == "redis-server"}}

    def cpu(self) -> dict[str, float]:
        return procstat.cpu_seconds(self.roots())
