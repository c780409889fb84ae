"""Helpers for tests that start their own redis-server, `flask worker` and `flask scheduler`."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from app.extensions import db

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A throwaway redis-server on a spare loopback port, without persistence."""

    def __init__(self, tmp: Path, *extra: str):
        self.port, self.tmp, self.extra, self.proc = free_port(), tmp, extra, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp), *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, 10, "redis-server did not start")
        return self

    def _answers(self) -> bool:
        try:
            return Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except Exception:  # noqa: BLE001
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def wait_until(check, timeout: float, message, interval: float = 0.1):
    """Poll `check` until it returns something truthy; fail with `message` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(message() if callable(message) else message)
        time.sleep(interval)


def fresh(query):
    """Run a query on a new snapshot, then let go so a SQLite writer in another process can work."""
    db.session.rollback()
    try:
        return query()
    finally:
        db.session.rollback()


def children(pid: int) -> list[int]:
    """The direct children of a process, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class FlaskProcess:
    """`flask worker` or `flask scheduler` in its own session, killed with everything it started."""

    def __init__(self, command: str, env: dict, log: Path, args: tuple[str, ...]):
        self.log = log
        self.proc = subprocess.Popen([FLASK, command, *args], cwd=ROOT, env=env,
                                     stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the process and its work horse (RQ puts the horse in its own group)."""
        if self.proc.poll() is None:
            horses = children(self.proc.pid)
            os.killpg(self.proc.pid, signal.SIGKILL)
            for pid in horses:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")
