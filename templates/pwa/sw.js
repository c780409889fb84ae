// 掌上办 service worker: precache the shell and versioned static files, show an offline page
// when the network is gone. Of pages, only the public guides and 一次性告知单 are cached, network
// first (the latest when online, the last seen when not); personal pages never are.
const VERSION = "{{ version }}";
const CACHE = "palm-shell-" + VERSION;
const PAGES = "palm-guides";  // kept across versions: a guide seen last week still helps offline
const PUBLIC_PAGE = /^\/(services|bundles)\/[A-Za-z0-9_-]+(\/checklist(\.png)?)?$/;
const SHELL = [
  "{{ url_for('pages.offline') }}",
  "{{ asset('css/app.css') }}",
  "{{ asset('js/htmx-2.0.8.min.js') }}",
  "{{ asset('js/app.js') }}",
  "{{ asset('js/ticket.js') }}",
  "{{ asset('icons/icon-192.png') }}",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("palm-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    // Static URLs carry a content hash, so a cached copy is always the right one.
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    })));
    return;
  }
  if (/^\/(services|bundles)\/[A-Za-z0-9_-]+\/seen$/.test(url.pathname)) {
    // A guide opened offline reports its view when it can: nothing to say while offline.
    event.respondWith(fetch(request).catch(() => new Response(null, { status: 204 })));
    return;
  }
  if (PUBLIC_PAGE.test(url.pathname) && !url.search) {
    event.respondWith(fetch(request).then((response) => {
      // A guide drawn for a signed-in person is private: the copy kept for offline use is the
      // same page as anyone sees it, asked for again without cookies.
      const keep = (r) => caches.open(PAGES).then((cache) => cache.put(request, r));
      const shared = (r) => r.ok && !(r.headers.get("Cache-Control") || "").includes("private");
      if (shared(response)) {
        keep(response.clone());
      } else if (response.ok) {
        fetch(url.pathname, { credentials: "omit" })
          .then((anon) => shared(anon) && keep(anon)).catch(() => {});
      }
      return response;
    }).catch(() => caches.open(PAGES).then((cache) => cache.match(request, { ignoreVary: true }))
      .then((hit) => hit || (request.mode === "navigate"
        ? caches.match("{{ url_for('pages.offline') }}") : Response.error()))));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("{{ url_for('pages.offline') }}")));
  }
});

// Web Push (progress notifications): show the message, and open its page when tapped.
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { body: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "掌上办", {
    body: data.body || "", icon: "{{ asset('icons/icon-192.png') }}", data: { url: data.url || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.openWindow(target));
});
