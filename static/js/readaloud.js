// 朗读: reads the page's main text aloud with the browser's own speech synthesis (zh-CN), for
// people who find small print hard. The button stays hidden where the browser cannot speak.
(function () {
  "use strict";
  var synth = window.speechSynthesis;
  var supported = !!(synth && window.SpeechSynthesisUtterance);
  var SKIP = "button, form, nav, svg, script, style, .visually-hidden, .read-aloud-bar, " +
    ".qr-box, [hidden], [aria-hidden='true'], [data-no-read]";

  function mainText(selector) {
    var source = document.querySelector(selector);
    if (!source) return "";
    var copy = source.cloneNode(true);
    copy.querySelectorAll(SKIP).forEach(function (el) { el.remove(); });
    // one pause per block, so that the voice does not run lines together
    copy.querySelectorAll("p, li, h2, h3, dt, dd, div").forEach(function (el) {
      el.append("。");
    });
    return copy.textContent.replace(/\s+/g, " ").replace(/。(\s*。)+/g, "。").trim();
  }

  function stop(button) {
    synth.cancel();
    button.textContent = "朗读";
    button.setAttribute("aria-pressed", "false");
  }

  function wire(button) {
    if (!supported) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      if (button.getAttribute("aria-pressed") === "true") {
        stop(button);
        return;
      }
      var utterance = new SpeechSynthesisUtterance(mainText(button.getAttribute("data-read-aloud")));
      utterance.lang = "zh-CN";
      utterance.rate = 0.9;
      utterance.onend = function () { stop(button); };
      utterance.onerror = function () { stop(button); };
      synth.cancel();
      synth.speak(utterance);
      button.textContent = "停止朗读";
      button.setAttribute("aria-pressed", "true");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-read-aloud]").forEach(wire);
  });
  window.addEventListener("pagehide", function () { if (supported) synth.cancel(); });
})();
