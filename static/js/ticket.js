// The booking ticket offline: halls often have poor signal. The receipt keeps its number, time,
// hall and QR code on the phone (localStorage, no other personal data); the offline page shows
// them under 您的预约(离线可出示); signing out on this phone forgets them. Loaded only by the pages that
// need it: the receipt (booking/view.html), 我的 (its sign-out forms) and the offline page.
(function () {
  "use strict";
  var KEY = "palm.tickets";
  var SVG = "http://www.w3.org/2000/svg";

  function load() {
    try {
      var rows = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(rows) ? rows : [];
    } catch (e) {
      return [];
    }
  }

  function save(rows) {
    try {
      if (rows.length) localStorage.setItem(KEY, JSON.stringify(rows));
      else localStorage.removeItem(KEY);
    } catch (e) { /* private mode or full: the receipt still shows online */ }
  }

  function current(rows) {
    var now = Date.now();
    return rows.filter(function (t) { return t && t.number && t.ends > now; });
  }

  // The receipt: keep a booked ticket, forget a cancelled or finished one.
  function keep(box) {
    var number = box.getAttribute("data-number");
    var rows = current(load()).filter(function (t) { return t.number !== number; });
    if (box.getAttribute("data-status") === "booked") {
      var path = document.querySelector(".qr-box svg path");
      var svg = document.querySelector(".qr-box svg");
      rows.unshift({
        number: number, item: box.getAttribute("data-item"), when: box.getAttribute("data-when"),
        hall: box.getAttribute("data-hall"), address: box.getAttribute("data-address"),
        ends: Date.parse(box.getAttribute("data-ends")),
        qr: path ? { box: svg.getAttribute("viewBox"), d: path.getAttribute("d") } : null,
      });
    }
    save(rows.slice(0, 5));
  }

  function text(tag, className, value) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = value || "";
    return el;
  }

  // Built with DOM calls, never innerHTML: what localStorage holds is treated as text.
  function qr(code) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", String(code.box).replace(/[^0-9 .]/g, ""));
    svg.setAttribute("class", "segno");
    svg.setAttribute("role", "img");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("stroke", "#000");
    path.setAttribute("d", String(code.d).replace(/[^0-9hvmHVM. -]/g, ""));
    svg.appendChild(path);
    return svg;
  }

  function show(list) {
    var rows = current(load());
    save(rows);
    if (!rows.length) return;
    rows.forEach(function (t) {
      var card = document.createElement("article");
      card.className = "card center offline-ticket";
      card.appendChild(text("p", "muted", "预约号"));
      card.appendChild(text("p", "booking-number", t.number));
      card.appendChild(text("p", "row-title", t.item));
      card.appendChild(text("p", "", t.when));
      card.appendChild(text("p", "", t.hall));
      card.appendChild(text("p", "muted small", t.address));
      if (t.qr) {
        var box = document.createElement("div");
        box.className = "qr-box";
        box.appendChild(qr(t.qr));
        card.appendChild(box);
      }
      list.appendChild(card);
    });
    list.closest("[data-offline-tickets]").hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-offline-ticket]");
    if (box) keep(box);
    var list = document.querySelector("[data-offline-tickets] .offline-ticket-list");
    if (list) show(list);
  });

  // Signing out (or out of every device) on this phone forgets the tickets kept on it.
  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-signs-out]")) save([]);
  });
})();
