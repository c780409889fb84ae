"""Run a whole test run on a set clock, to show that the suite passes at any hour and weekday.

    PALM_TEST_CLOCK="2026-12-05 23:50" PYTHONPATH=tests/clock make test

PALM_TEST_CLOCK is a moment in Shanghai time; with this folder on PYTHONPATH, every Python process
of the run (pytest, and the workers, gunicorn and fakes the tests start, which inherit both
variables) starts its clock there and lets it tick (time-machine). The moment is anchored to the
real time the run began (PALM_TEST_CLOCK_ANCHOR, set by the first process), so a process started
ten minutes into the run is ten minutes past the moment too, like its parent. Non-Python parts
(PostgreSQL, Redis, Chromium) keep the real clock, as they would beside a real deployment.

Without PALM_TEST_CLOCK this does nothing. Tests that depend on the time set it themselves
(`@pytest.mark.time_machine(shanghai(...))`, see tests/conftest.py); this is only the proof.
"""

import os

if os.environ.get("PALM_TEST_CLOCK"):
    import time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    _anchor = float(os.environ.setdefault("PALM_TEST_CLOCK_ANCHOR", repr(time.time())))
    _moment = datetime.fromisoformat(os.environ["PALM_TEST_CLOCK"]).replace(
        tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    time_machine.travel(_moment + time.time() - _anchor, tick=True).start()
