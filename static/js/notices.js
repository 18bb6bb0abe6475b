// Notices on every page: the bell's unread count kept fresh by a cheap poll (the server answers
// 304 while nothing changed), a toast when a new notice comes, and an event the page can listen to
// (the today page fetches a new gate request at once). A push shown by the service worker asks
// for the same poll at once.
const bell = document.querySelector('.bell');
const toast = document.getElementById('notice-toast');
const POLL_MS = 5000;
const KEY = 'xuncha-notice-seen';
// The newest notice this tab has seen (null: none yet; the first answer sets it without a toast).
let seen = sessionStorage.getItem(KEY);
let polling = false;

function showCount(unread) {
  const count = bell.querySelector('.bell-count');
  count.textContent = unread > 99 ? '99+' : String(unread);
  count.hidden = unread === 0;
  bell.dataset.unread = String(unread);
  bell.setAttribute('aria-label', `${bell.dataset.label}, ${bell.dataset.unreadLabel.replace('999999', unread)}`);
}

function markRead(id) {
  const form = new FormData();
  form.append('csrf_token', document.querySelector('meta[name="csrf-token"]')?.content ?? '');
  navigator.sendBeacon(`/notices/${Number(id)}/read`, form);
}

function showToast(notice) {
  const link = document.createElement('a');
  link.href = notice.link || bell.href;
  link.append(notice.title);
  const body = document.createElement('small');
  body.textContent = notice.body;
  link.append(body);
  // Opening it reads it (as opening it from the list does); the page goes on at once.
  link.addEventListener('click', () => markRead(notice.id));
  const close = document.createElement('button');
  close.type = 'button';
  close.textContent = '×';
  close.setAttribute('aria-label', 'OK');
  close.addEventListener('click', () => { toast.hidden = true; });
  toast.replaceChildren(link, close);
  toast.hidden = false;
}

export async function poll() {
  if (polling || document.visibilityState !== 'visible' || !navigator.onLine) return;
  polling = true;
  try {
    // cache: 'no-cache' revalidates with If-None-Match: an unchanged count costs the server a 304.
    const response = await fetch('/api/v1/notices/unread', { credentials: 'same-origin', cache: 'no-cache',
      headers: { Accept: 'application/json' } });
    if (!response.ok || !(response.headers.get('Content-Type') ?? '').includes('application/json')) return;
    const data = await response.json();
    showCount(data.unread);
    const fresh = seen !== null && data.newest && data.newest_id > Number(seen);
    if (seen === null || data.newest_id > Number(seen)) {
      seen = String(data.newest_id);
      sessionStorage.setItem(KEY, seen);
    }
    if (fresh) {
      showToast(data.newest);
      document.dispatchEvent(new CustomEvent('xuncha:notice', { detail: data.newest }));
    }
  } catch (error) {
    // No signal: the bell keeps its last count.
  } finally {
    polling = false;
  }
}

if (bell) {
  setInterval(poll, POLL_MS);
  document.addEventListener('visibilitychange', poll);
  window.addEventListener('online', poll);
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'NOTICE') poll();
    if (event.data?.type === 'NOTICE_READ') markRead(event.data.id); // its push notification was tapped
  });
  poll();
}
