// The clerk's QR scanner, shared by check-in (签到) and 核验亮证: camera + BarcodeDetector where the
// browser has them; typing always works. The scan button names what it fills and what it accepts:
//   <button id="scan-button" data-scan-input="number" data-scan-form="checkin-form"
//           data-scan-accept="digits8" data-scan-fallback="请输入预约号" hidden>
// accept: "digits8" (the digits of the code, 8 of them) or "link-or-code" (a /t/ link or 8 digits).
(function () {
  "use strict";

  var ACCEPT = {
    "digits8": function (raw) {
      var digits = raw.replace(/\D/g, "");
      return digits.length === 8 ? digits : null;
    },
    "link-or-code": function (raw) {
      var value = raw.trim();
      return /\/t\/[A-Za-z0-9]{12}$/.test(value) || /^\d{8}$/.test(value) ? value : null;
    }
  };

  function setupScanner() {
    var button = document.getElementById("scan-button");
    if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
        !navigator.mediaDevices.getUserMedia) {
      return; // progressive enhancement: what is typed is the way
    }
    var box = document.getElementById("scanner");
    var video = document.getElementById("scanner-video");
    var status = document.getElementById("scanner-status");
    var input = document.getElementById(button.dataset.scanInput);
    var form = document.getElementById(button.dataset.scanForm);
    var accept = ACCEPT[button.dataset.scanAccept];
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
        var found = codes.map(function (c) { return accept(c.rawValue || ""); })
          .filter(Boolean)[0];
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
        status.textContent = "无法使用摄像头," + button.dataset.scanFallback;
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupScanner);
  } else {
    setupScanner();
  }
})();
