// Small progressive enhancements; the app works without them.
(function () {
  "use strict";

  // Register the service worker where the browser has one (in-app browsers often don't).
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }

  // "Resend code" waits out the one-a-minute limit with a visible countdown.
  function countdown(button) {
    var left = parseInt(button.getAttribute("data-countdown"), 10);
    if (!left) return;
    var label = button.textContent;
    button.disabled = true;
    var timer = setInterval(function () {
      left -= 1;
      button.textContent = label + "(" + left + " 秒)";
      if (left <= 0) {
        clearInterval(timer);
        button.disabled = false;
        button.textContent = label;
      }
    }, 1000);
  }

  function enhance(root) {
    root.querySelectorAll("[data-countdown]").forEach(countdown);
  }

  // 页面已过期 (app/core/restore.py): put back what was typed into the form that posts to the
  // same address, for the person to check and send themselves. Never submits anything.
  function restoreForm() {
    var note = document.getElementById("restore-form");
    if (!note) return;
    var fields = JSON.parse(note.getAttribute("data-fields") || "{}");
    var action = note.getAttribute("data-action");
    var form = Array.prototype.find.call(document.forms, function (f) {
      return new URL(f.action, location.href).pathname === action;
    });
    if (!form) return;
    Object.keys(fields).forEach(function (name) {
      var values = String(fields[name]).split("\n");
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name !== name || el.type === "hidden" || el.type === "password" ||
            el.type === "file") return;
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = values.indexOf(el.value) !== -1;
        } else if (el.tagName === "SELECT" || el.tagName === "TEXTAREA" || el.tagName === "INPUT") {
          el.value = el.tagName === "TEXTAREA" ? fields[name] : values[0];
        }
      });
    });
    note.hidden = false;
    form.insertAdjacentElement("beforebegin", note);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    restoreForm();
  });
  document.addEventListener("htmx:load", function (event) {
    if (event.target !== document.body) enhance(event.target);
  });

  // Say so when a request fails, instead of leaving the page silent.
  document.addEventListener("htmx:sendError", function () {
    alert("网络连接失败,请检查网络后重试。");
  });
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var target = event.detail.target;
    if (xhr && xhr.status >= 400 && xhr.status < 600 && target && xhr.responseText) {
      target.insertAdjacentHTML("beforebegin", xhr.responseText);
    }
  });
})();
