// 核验亮证: the clerk's QR scanner (camera + BarcodeDetector where the browser has them; typing
// the 8-digit code always works). The QR holds a /t/ link; the form takes the link or the code.
(function () {
  "use strict";

  function setupScanner() {
    var button = document.getElementById("scan-button");
    var box = document.getElementById("scanner");
    var video = document.getElementById("scanner-video");
    var status = document.getElementById("scanner-status");
    var input = document.getElementById("code");
    var form = document.getElementById("verify-form");
    if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
        !navigator.mediaDevices.getUserMedia) {
      return; // progressive enhancement: the typed code is the way
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
        var found = codes.map(function (c) { return (c.rawValue || "").trim(); })
          .filter(function (v) { return /\/t\/[A-Za-z0-9]{12}$/.test(v) || /^\d{8}$/.test(v); })[0];
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
        status.textContent = "无法使用摄像头,请输入 8 位亮证码";
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupScanner);
  } else {
    setupScanner();
  }
})();
