// 帮办代办: show the home-visit fields only when "上门服务" is chosen (all shown without JS).
(function () {
  "use strict";

  function sync() {
    var home = document.getElementById("mode-home");
    var show = !home || home.checked;
    document.querySelectorAll("[data-mode-only='home']").forEach(function (el) {
      el.hidden = !show;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var radios = document.querySelectorAll("input[name='mode']");
    if (!radios.length) return;
    radios.forEach(function (r) { r.addEventListener("change", sync); });
    var any = Array.prototype.some.call(radios, function (r) { return r.checked; });
    if (any) sync();
  });
})();
