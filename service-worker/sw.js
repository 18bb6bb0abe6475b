// Xuncha's service worker. VERSION and PRECACHE are prepended by the server (app/pwa.py):
// VERSION is a hash of every static file and of this worker, so a deploy changes it.
/* global VERSION, PRECACHE */
const PREFIX = 'xuncha-';
const STATIC_CACHE = `${PREFIX}static-${VERSION}`;
const PAGES_CACHE = `${PREFIX}pages-${VERSION}`;
const CURRENT = [STATIC_CACHE, PAGES_CACHE];
// Pages a steward needs with no signal; the round page is one shell for every round.
const OFFLINE_PAGES = ['/rounds/today', '/rounds/walk'];
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    await cache.addAll(PRECACHE.filter((url) => url.startsWith('/static/') || url === '/offline'));
    const pages = await caches.open(PAGES_CACHE);
    for (const url of OFFLINE_PAGES) {
      const response = await fetch(url, { credentials: 'same-origin' }).catch(() => null);
      if (response && response.ok && !response.redirected) await pages.put(url, response);
    }
  })());
  // No skipWaiting here: the page decides when to switch (never in the middle of a round).
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && !CURRENT.includes(n)).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting();
  if (event.data?.type === 'FORGET_PAGES') {
    // Every version's pages: a waiting worker may already hold this user's pages too.
    event.waitUntil(caches.keys().then((names) => Promise.all(
      names.filter((n) => n.startsWith(`${PREFIX}pages-`)).map((n) => caches.delete(n)))));
  }
  if (event.data?.type === 'VERSION') event.source?.postMessage({ type: 'VERSION', version: VERSION });
});

// Background Sync: wake an open page to send the outbox (the page holds the session's CSRF token).
self.addEventListener('sync', (event) => {
  if (event.tag === 'xuncha-outbox') {
    event.waitUntil(self.clients.matchAll({ type: 'window' }).then((clients) => {
      for (const client of clients) client.postMessage({ type: 'SYNC' });
    }));
  }
});

// Web Push (app/notices/push.py): a notice shown even with the app closed; open pages refresh their bell.
self.addEventListener('push', (event) => {
  let notice = {};
  try { notice = event.data?.json() ?? {}; } catch (error) { notice = { body: event.data?.text() ?? '' }; }
  event.waitUntil((async () => {
    const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const client of clients) client.postMessage({ type: 'NOTICE', notice });
    await self.registration.showNotification(notice.title || 'Xuncha', {
      body: notice.body || '', tag: notice.tag, data: { url: notice.url || '/notices/', id: notice.id },
      icon: '/static/icons/icon-192.png', badge: '/static/icons/icon-192.png', renotify: Boolean(notice.tag),
    });
  })());
});

// A tap on the notice: the app's open window goes to its page, or a new one opens there.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || '/notices/', self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil((async () => {
    const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = clients.find((c) => new URL(c.url).origin === target.origin);
    if (open) {
      // The open page reads it for the person (it holds the session's CSRF token), then goes there.
      if (event.notification.data?.id) open.postMessage({ type: 'NOTICE_READ', id: event.notification.data.id });
      await open.focus();
      return open.navigate ? open.navigate(target.href) : undefined;
    }
    return self.clients.openWindow(target.href);
  })());
});

function pageKey(url) {
  return OFFLINE_PAGES.includes(url.pathname) ? url.pathname : null;
}

async function networkFirst(request, url) {
  const key = pageKey(url);
  const cache = await caches.open(PAGES_CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), NETWORK_TIMEOUT_MS)),
    ]);
    if (key && response.ok && !response.redirected && response.headers.get('Content-Type')?.includes('text/html')) {
      await cache.put(key, response.clone());
    }
    return response;
  } catch (error) {
    const cached = key ? await cache.match(key) : null;
    return cached ?? (await caches.match('/offline')) ?? Response.error();
  }
}

// A server photo with no signal: a grey "photo when online" tile, never a broken image.
const PHOTO_PLACEHOLDER = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96" role="img" aria-label="offline">
<rect width="96" height="96" fill="#dde1e3"/><rect x="26" y="34" width="44" height="32" rx="5" fill="none" stroke="#6b7378" stroke-width="4"/>
<circle cx="48" cy="50" r="8" fill="none" stroke="#6b7378" stroke-width="4"/><rect x="38" y="28" width="20" height="8" rx="2" fill="#6b7378"/>
<path d="M18 78 78 18" stroke="#6b7378" stroke-width="4"/></svg>`;

async function photoOrPlaceholder(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return new Response(PHOTO_PLACEHOLDER, { headers: { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'no-store' } });
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) (await caches.open(STATIC_CACHE)).put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/static/')) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === 'navigate') {
    event.respondWith(networkFirst(request, url));
  } else if (url.pathname.startsWith('/photos/')) {
    event.respondWith(photoOrPlaceholder(request));
  }
  // The API and everything else go to the network as they are.
});
