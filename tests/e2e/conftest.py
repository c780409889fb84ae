"""Browser tests: Debian's Chromium driven by Playwright at a phone's viewport."""

import logging
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36")
WECHAT_UA = PHONE_UA + " MicroMessenger/8.0.49.2600(0x28003133) NetType/4G Language/zh_CN"


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(autouse=True)
def _jobs_run_while_browsing(app):
    """With Redis, run queued jobs in a background thread, as a worker would beside the server.

    Per test, so that no job runs while the next test empties the tables."""
    if not app.config.get("REDIS_URL"):
        yield
        return
    from rq import Queue

    from app import jobs

    stop = threading.Event()

    def loop():
        with app.app_context():
            conn = jobs.redis_connection()
            queues = [Queue(name, connection=conn) for name in jobs.QUEUES]
            while not stop.is_set():
                found = Queue.dequeue_any(queues, timeout=None, connection=conn)
                if not found:
                    stop.wait(0.05)
                    continue
                try:
                    found[0].perform()
                except Exception:  # noqa: BLE001 - the outbox row records the failure
                    logging.getLogger(__name__).exception("job failed in the e2e runner")
                finally:
                    db.session.remove()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


@pytest.fixture(autouse=True)
def _debug_for_the_dev_outbox(app):
    """Browser tests read codes from the debug-only outbox; other tests see debug off."""
    app.debug = True
    yield
    app.debug = False


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Phone:
    """One phone's browser tab that records console errors and CSP violations."""

    def __init__(self, context):
        self.context = context
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def assert_clean(self):
        assert self.errors == [], self.errors


@pytest.fixture
def make_phone(browser, live_server, runner):
    """Open phone-sized browsers; demo data is loaded first."""
    runner.invoke(args=["demo", "load"])
    contexts = []

    def make(wechat: bool = False, care: bool = False) -> Phone:
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
            has_touch=True, locale="zh-CN", user_agent=WECHAT_UA if wechat else PHONE_UA,
            service_workers="block" if wechat else "allow", base_url=live_server)
        if care:
            context.add_cookies([{"name": "care", "value": "1", "url": live_server}])
        contexts.append(context)
        return Phone(context)

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone(make_phone):
    return make_phone()
