// 掌上办 service worker: precache the shell and versioned static files, show an offline page
// when the network is gone, and never cache pages (they may carry personal data).
const VERSION = "{{ version }}";
const CACHE = "palm-shell-" + VERSION;
const SHELL = [
  "{{ url_for('core.offline') }}",
  "{{ asset('css/app.css') }}",
  "{{ asset('js/htmx-2.0.8.min.js') }}",
  "{{ asset('js/app.js') }}",
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
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("{{ url_for('core.offline') }}")));
  }
});
