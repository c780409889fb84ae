"""The clerk's QR scanner (static/js/scanner.js) on check-in and on 核验亮证, with a camera and a
BarcodeDetector played by the page itself: what the camera reads is filtered, filled in and sent."""

import pytest

CAMERA = """
(() => {
  const reads = %s;
  let n = 0;
  window.BarcodeDetector = class {
    static getSupportedFormats() { return Promise.resolve(["qr_code"]); }
    detect() { const r = reads[Math.min(n++, reads.length - 1)]; return Promise.resolve(r); }
  };
  navigator.mediaDevices.getUserMedia = () => {
    const canvas = document.createElement("canvas");
    canvas.width = 64; canvas.height = 64;
    canvas.getContext("2d").fillRect(0, 0, 64, 64);
    return Promise.resolve(canvas.captureStream(5));
  };
})();
"""


def _clerk(make_phone, reads: str):
    phone = make_phone()
    phone.context.add_init_script(CAMERA % reads)
    page = phone.page
    page.goto("/staff/login")
    page.fill("#username", "clerk")
    page.fill("#password", "clerk-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/staff")
    return phone


@pytest.mark.parametrize("width", [320, 390])
def test_check_in_by_scanning_fills_the_booking_number(make_phone, width):
    # Nothing, then a QR that is not a booking, then one that is: only the last is taken.
    phone = _clerk(make_phone, '[[], [{"rawValue": "hello"}], [{"rawValue": "预约号 8765-4321"}]]')
    page = phone.page
    page.set_viewport_size({"width": width, "height": 740})
    page.goto("/clerk/queue")
    page.select_option("#window_id", index=1)
    page.click("button:has-text('选用')")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("#scan-button")
    assert answer.value.status == 404  # no such booking today: refused, the number kept
    page.wait_for_load_state()
    assert page.input_value("#number") == "87654321"


def test_licence_check_by_scanning_takes_the_link(make_phone):
    link = "http://127.0.0.1/t/ABCDEFGHJKLM"
    phone = _clerk(make_phone, f'[[{{"rawValue": "12345"}}], [{{"rawValue": "{link}"}}]]')
    page = phone.page
    page.goto("/licences/verify")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("#scan-button")
    assert answer.value.status in (404, 410)  # a link that was never issued: nothing shown
    assert page.locator(".licence-verified").count() == 0
