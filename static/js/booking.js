// Booking pages: one submit per tap (the clerk's QR scanner is static/js/scanner.js). No inline
// handlers under our CSP.
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
})();
