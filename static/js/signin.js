// 获取验证码 on the sign-in and 一号查询 pages: the button counts down the wait the server gave
// ("59 秒后重发"), and Enter in the form signs in rather than asking for another code.
// Without this file the button is a plain submit that leads to the two-step form.
(function () {
  "use strict";

  function countdown(button) {
    if (button.getAttribute("data-counting")) return;
    var left = parseInt(button.getAttribute("data-wait"), 10);
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    if (!left || left <= 0) return;
    var note = button.parentNode.querySelector("[data-wait-note]");
    if (note) note.hidden = true;
    button.setAttribute("data-counting", "1");
    button.disabled = true;
    function tick() {
      if (left <= 0) {
        clearInterval(timer);
        button.removeAttribute("data-counting");
        button.disabled = false;
        button.textContent = label === "获取验证码" ? "重新获取" : label;
        return;
      }
      button.textContent = left + " 秒后重发";
      left -= 1;
    }
    var timer = setInterval(tick, 1000);
    tick();
  }

  function enhance(root) {
    root.querySelectorAll("[data-code-button]").forEach(function (button) {
      // With htmx here the inline button asks for the code in place; the form's own submit
      // (and Enter) is the sign-in.
      if (window.htmx) button.type = "button";
      countdown(button);
    });
    root.querySelectorAll(".resend [data-wait]").forEach(countdown);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) {
    if (event.target !== document.body) enhance(event.target);
  });

  // A refused request for a code (bad number: 400, too soon: 429) comes back as the button
  // with its message: show it in place.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var target = event.detail.target;
    if (target && target.id === "code-send" && (xhr.status === 400 || xhr.status === 429)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Once a code is on its way, the next thing to type is the code.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "code-send" || event.detail.xhr.status !== 200) return;
    var code = document.getElementById("code");
    if (code) code.focus();
  });
})();
