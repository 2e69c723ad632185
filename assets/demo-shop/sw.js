/*
 * Apoteket Exempel — the shop's service worker (network first). Like many such workers it
 * passes every request of the pages it controls on with its own fetch(), third-party ones
 * included: a pixel request of a controlled page leaves from the worker, not from the page.
 * It also sends one hit of its own when it activates, as a tag running inside a worker would.
 * Nothing here is vendor code.
 */
self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(
    self.clients.claim().then(function () {
      return fetch('https://www.facebook.com/tr/?id=1234567890&ev=PageView&sw=1&dl=' +
        encodeURIComponent(self.registration.scope), { mode: 'no-cors' }).catch(function () {});
    })
  );
});

self.addEventListener('fetch', function (event) {
  event.respondWith(fetch(event.request).catch(function () { return Response.error(); }));
});
