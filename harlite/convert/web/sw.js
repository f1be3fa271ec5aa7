// The phone page offline: its files kept by the browser once loaded over https, so the page
// saved to the home screen opens without the server. Each GET of the page's own files goes
// to the network first (a new export is taken at once), the kept copy when there is none;
// anything else (sending samples to a server) is not touched.
"use strict";

const CACHE = "harlite-phone-v1";
const FILES = ["./", "index.html", "style.css", "harlite-model.js", "harlite.js", "phone.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (request.method !== "GET" || url.origin !== scope.origin ||
      !url.pathname.startsWith(scope.pathname)) return;
  event.respondWith(
    fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    }).catch(() => caches.match(request, { ignoreSearch: true })
      .then((kept) => kept || Response.error())),
  );
});
