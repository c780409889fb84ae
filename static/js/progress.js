// Web Push opt-in for progress notifications. Only where the browser has a service worker and
// PushManager (never in in-app browsers, which have neither): the card stays hidden otherwise.
(function () {
  "use strict";

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (e) {
      return "";
    }
  }

  function setup() {
    var card = document.getElementById("push-optin");
    if (!card || !("serviceWorker" in navigator) || !("PushManager" in window) ||
        !window.isSecureContext || typeof Notification === "undefined" ||
        Notification.permission === "denied") {
      return;
    }
    var button = document.getElementById("push-optin-button");
    var status = document.getElementById("push-optin-status");
    card.hidden = false;
    navigator.serviceWorker.ready.then(function (reg) {
      return reg.pushManager.getSubscription();
    }).then(function (existing) {
      if (existing) {
        button.hidden = true;
        status.textContent = "已开启消息通知。";
      }
    }).catch(function () {});

    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.serviceWorker.ready.then(function (reg) {
        return reg.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: keyBytes(card.getAttribute("data-key")),
        });
      }).then(function (subscription) {
        return fetch(card.getAttribute("data-subscribe"), {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify(subscription),
        });
      }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        button.hidden = true;
        status.textContent = "已开启消息通知。";
      }).catch(function () {
        button.disabled = false;
        status.textContent = "没有开启:请在浏览器设置中允许本网站发送通知后重试。";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
