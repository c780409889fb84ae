// Booking pages: one submit per tap, and the clerk's QR scanner (camera + BarcodeDetector where
// the browser has them; typing the booking number always works). No inline handlers under our CSP.
(function () {
  "use strict";

  // A shaky connection tempts a second tap; the server already returns the first result, and
  // this keeps the button from sending a second request at all.
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-once]");
    if (!button) return;
    if (button.dataset.sent) { event.preventDefault(); return; }
    button.dataset.sent = "1";
    button.setAttribute("aria-disabled", "true");
    button.textContent = "正在提交…";
  });

  function setupScanner() {
    var button = document.getElementById("scan-button");
    var box = document.getElementById("scanner");
    var video = document.getElementById("scanner-video");
    var status = document.getElementById("scanner-status");
    var input = document.getElementById("number");
    var form = document.getElementById("checkin-form");
    if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
        !navigator.mediaDevices.getUserMedia) {
      return; // progressive enhancement: the typed number is the way
    }
    button.hidden = false;
    var stream = null;
    var detector = null;

    function stop() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      box.hidden = true;
      button.textContent = "用摄像头扫码";
    }

    function scan() {
      if (!stream) return;
      detector.detect(video).then(function (codes) {
        var found = codes.map(function (c) { return (c.rawValue || "").replace(/\D/g, ""); })
          .filter(function (v) { return v.length === 8; })[0];
        if (found) {
          input.value = found;
          stop();
          form.requestSubmit();
        } else {
          window.requestAnimationFrame(scan);
        }
      }).catch(function () { window.setTimeout(scan, 300); });
    }

    button.addEventListener("click", function () {
      if (stream) { stop(); return; }
      window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") < 0) throw new Error("no qr");
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      }).then(function (s) {
        stream = s;
        video.srcObject = s;
        box.hidden = false;
        status.textContent = "把二维码放在画面中间";
        button.textContent = "停止扫码";
        return video.play();
      }).then(scan).catch(function () {
        stop();
        box.hidden = false;
        status.textContent = "无法使用摄像头,请输入预约号";
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupScanner);
  } else {
    setupScanner();
  }
})();
