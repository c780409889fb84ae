"""Every package of the app imports on its own, in a fresh interpreter, as a script or a bench
does (`from app.booking import opening`): a module that configures the mappers at import time
(a loader option built at module level) fails there when the models it names are not yet known,
while the test run, which builds the whole app first, never sees it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_each_package_imports_on_its_own():
    packages = sorted(f"app.{p.parent.name}" for p in (ROOT / "app").glob("*/__init__.py"))
    assert "app.booking" in packages and len(packages) > 10
    runs = {name: subprocess.Popen([sys.executable, "-c", f"import {name}"], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for name in packages}  # side by side: a second each, on every core
    failed = {}
    for name, run in runs.items():
        out, _ = run.communicate(timeout=120)
        if run.returncode != 0:
            failed[name] = out.strip().splitlines()[-1]
    assert failed == {}
