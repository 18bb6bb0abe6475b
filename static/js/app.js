// The offline layer on every steward page: the service worker, the outbox's sync and its
// progress, storage, and the guards that keep unsent work from being lost.
import { api } from './api.js';
import { format, h } from './dom.js';
import { getMeta, outboxOf, putMeta, roundsOfUser, getPhoto } from './store.js';
import { currentUser, events, isSending, isWaiting, progress, retryAttention, signalBack, syncNow } from './sync.js';

const T = JSON.parse(document.getElementById('app-strings').textContent);
const bar = document.getElementById('sync-bar');
const statusEl = bar.querySelector('.sync-status');
const progressEl = bar.querySelector('.sync-progress');
const notices = bar.querySelector('.notices');
const toggle = bar.querySelector('.sync-toggle');
const details = bar.querySelector('.sync-details');
const user = currentUser();

// The details open on a tap, over the page; a notice that asks something of the steward opens them.
function showDetails(open) {
  details.hidden = !open;
  toggle.setAttribute('aria-expanded', String(open));
}
toggle.addEventListener('click', () => showDetails(details.hidden));
document.addEventListener('click', (event) => { if (event.isTrusted && !bar.contains(event.target)) showDetails(false); });
const ASKING = ['login', 'logout', 'update', 'storage-full'];
let state = 'sent';
let offline = false;
let said = '';
function setState(next) {
  state = next;
  bar.dataset.state = offline && !['attention', 'login'].includes(next) ? 'offline' : next;
  statusEl.textContent = bar.dataset.state === 'offline' && said ? `${T.noSignal} · ${said}` : said;
}
function say(text) {
  said = text;
  setState(state);
}

// A size people read at a glance: 72 KB, 3.4 MB, 10 GB (a storage quota is often gigabytes).
const readableSize = (bytes) => {
  if (bytes >= 1073741824) return `${+(bytes / 1073741824).toFixed(bytes >= 10737418240 ? 0 : 1)} GB`;
  if (bytes >= 1048576) return `${(bytes / 1048576).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
};

function notice(id, ...content) {
  let el = notices.querySelector(`[data-notice="${id}"]`);
  if (!content.length) { el?.remove(); return; }
  const isNew = !el;
  if (!el) { el = h('p', { class: `notice notice-${id}`, 'data-notice': id }); notices.append(el); }
  el.replaceChildren(...content.filter((c) => c !== null && c !== undefined && c !== false)); // never "null"
  if (isNew && ASKING.includes(id)) showDetails(true);
  return isNew;
}

// Where the steward fixes what an entry needs: its round's page, or its card on the today page.
function placeOf(entry) {
  if (['start', 'complete', 'photo', 'amendment'].includes(entry.type) && !entry.recordUuid) {
    return `/rounds/walk?round=${entry.roundUuid.split('/')[0]}`;
  }
  if (entry.type === 'verification') return `/rounds/today#check-${entry.body?.ticket_id}`;
  return '/rounds/today';
}

async function showOutbox() {
  const entries = await outboxOf(user);
  const waiting = entries.filter(isWaiting);
  const attention = entries.filter((e) => e.status === 'attention');
  const aside = entries.filter((e) => e.status === 'aside');
  // One state at a time: never "everything is in the office" while something needs attention.
  if (!isSending()) {
    state = attention.length ? 'attention' : waiting.length ? 'pending' : 'sent';
    const drained = progress(); // a drain cut off (no signal, a retry): how far it got, not "from 1" again
    say(attention.length
      ? format(T.needAttention, { count: new Set(attention.map((e) => e.roundUuid)).size })
      : waiting.length && drained ? progressText(drained)
      : waiting.length
        ? format(T.onPhone, { count: waiting.length, size: readableSize(waiting.reduce((s, e) => s + (e.bytes ?? 0), 0)) })
        : aside.length ? format(T.setAsideCount, { count: new Set(aside.map((e) => e.roundUuid)).size }) : T.allSent);
  }
  bar.dataset.pending = String(waiting.length);
  bar.dataset.attention = String(attention.length);
  const rounds = new Set(attention.map((e) => e.roundUuid));
  for (const roundUuid of rounds) {
    const entry = attention.find((e) => e.roundUuid === roundUuid);
    const here = new URL(placeOf(entry), location.href);
    const onIt = here.pathname === location.pathname && here.search === location.search;
    const isNew = notice(`attention-${roundUuid}`, format(T.attention, { message: entry.error }), ' ',
      onIt ? null : h('a', { class: 'button primary', href: here.pathname + here.search + here.hash }, T.openIt),
      entry.conflict ? null : h('button', { type: 'button', class: 'button', onclick: () => retryAttention(roundUuid) }, T.tryAgain));
    // Told on the page it is about already: no need to open the details over it.
    if (isNew && !onIt) showDetails(true);
  }
  for (const el of notices.querySelectorAll('[data-notice^="attention-"]')) {
    if (!rounds.has(el.dataset.notice.slice('attention-'.length))) el.remove();
  }
  const oldest = entries.filter((e) => e.status !== 'aside').reduce((min, e) => (e.createdAt < min ? e.createdAt : min), new Date().toISOString());
  notice('stale', ...(Date.now() - Date.parse(oldest) > 3 * 86400000 ? [T.staleWork] : []));
  document.dispatchEvent(new CustomEvent('xuncha:outbox'));
}

// Items and bytes: sent so far and in all (the bar goes by bytes, which is where the time goes).
const progressText = (p) => format(T.sendingBytes, { done: p.done, total: p.total, sent: readableSize(p.bytes),
  size: readableSize(p.totalBytes) });
function showProgress(p) {
  progressEl.hidden = !p;
  if (!p) return;
  progressEl.max = Math.max(p.totalBytes, 1);
  progressEl.value = Math.min(p.bytes, progressEl.max);
}
events.addEventListener('progress', ({ detail }) => {
  showProgress(detail);
  state = 'sending';
  say(progressText(detail));
});
function markOffline(now) {
  offline = now;
  notice('offline', ...(now ? [T.offline] : []));
  setState(state);
}
events.addEventListener('idle', () => { progressEl.hidden = true; markOffline(!navigator.onLine); notice('retry'); notice('login'); });
events.addEventListener('offline', () => markOffline(true));
events.addEventListener('retrying', ({ detail }) => notice('retry', format(T.retrying, { reason: detail.reason === 'network' ? T.network : detail.reason })));
events.addEventListener('login-required', () => { state = 'login'; say(T.signInAgain); });
events.addEventListener('login-required', () => notice('login', T.loginRequired, ' ',
  h('a', { class: 'button primary', href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, T.signIn)));
for (const type of ['changed', 'sent', 'attention', 'sending']) events.addEventListener(type, showOutbox);
events.addEventListener('changed', () => { showProgress(progress()); maybeApplyUpdate(); });
document.addEventListener('xuncha:enqueued', () => { showOutbox(); syncNow(); });

bar.querySelector('.sync-now').addEventListener('click', () => signalBack());
window.addEventListener('online', () => { markOffline(false); signalBack(); });
window.addEventListener('offline', () => markOffline(true));
if (!navigator.onLine) markOffline(true);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') setTimeout(syncNow, 1500);
});

// The service worker: "ready to work offline" (worker active and offline pack stored), and
// "update available", applied only when safe.
let waitingWorker = null;
const ready = { worker: false, pack: false };
function showReady() {
  if (ready.worker && ready.pack) {
    notice('ready', `✓ ${T.readyOffline}`);
    bar.dataset.offlineReady = 'true';
  }
}
function roundOpen() {
  return location.pathname === '/rounds/walk' && document.querySelector('.checkpoint, .summary');
}
let updateMode = null;
let appliedHere = false; // only the page that asked for the update reloads
let applyWhenIdle = false; // asked while sending: apply as soon as the outbox is quiet

function applyUpdate() {
  if (roundOpen()) { notice('update', T.updateLater); updateMode = 'later'; return; }
  if (isSending()) { applyWhenIdle = true; notice('update', T.updateLater); updateMode = 'later'; return; }
  appliedHere = true;
  waitingWorker.postMessage({ type: 'SKIP_WAITING' });
}

function maybeApplyUpdate() {
  if (!waitingWorker) return;
  if (applyWhenIdle && !isSending() && !roundOpen()) { applyWhenIdle = false; applyUpdate(); return; }
  if (updateMode) return; // keep the same button (or message) under the user's thumb
  updateMode = 'ask';
  notice('update', T.updateAvailable, ' ', h('button', { type: 'button', class: 'button', onclick: applyUpdate }, T.updateNow));
}

async function setUpWorker() {
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  const track = (worker) => worker?.addEventListener('statechange', () => {
    if (worker.state === 'installed' && navigator.serviceWorker.controller) { waitingWorker = worker; maybeApplyUpdate(); }
    if (worker.state === 'activated') { ready.worker = true; showReady(); }
  });
  if (registration.waiting && navigator.serviceWorker.controller) { waitingWorker = registration.waiting; maybeApplyUpdate(); }
  registration.addEventListener('updatefound', () => track(registration.installing));
  if (registration.active) { ready.worker = true; showReady(); }
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // Only a page that asked for the update reloads (never mid-round: see maybeApplyUpdate).
    if (appliedHere && !reloading) { reloading = true; location.reload(); }
  });
  navigator.serviceWorker.addEventListener('message', (event) => { if (event.data?.type === 'SYNC') syncNow(); });
  registration.update().catch(() => {});
}

async function showStorage() {
  if (!navigator.storage) return;
  const persisted = (await navigator.storage.persisted?.()) || (await navigator.storage.persist?.());
  const { usage = 0, quota = 0 } = (await navigator.storage.estimate?.()) ?? {};
  bar.querySelector('.storage-info').textContent =
    `${persisted ? T.storagePersisted : T.storageNotPersisted} · ${format(T.storageUsed, { used: readableSize(usage), quota: readableSize(quota) })}`;
}

// What the phone needs for the coming days, refreshed on each online start.
async function refreshPack() {
  // The key this phone signs an exported file with, given to it at sign-in; kept only here.
  const current = navigator.onLine ? await api('/api/v1/session') : { ok: false };
  if (current.ok && current.data.user_id === user && current.data.export_key) {
    await putMeta(`export-key:${user}`, { id: current.data.export_key_id, key: current.data.export_key });
  }
  const result = navigator.onLine ? await api('/api/v1/offline-pack') : { ok: false };
  if (result.ok && result.data.user_id === user) await putMeta(`pack:${user}`, result.data);
  ready.pack = Boolean(await getMeta(`pack:${user}`));
  showReady();
}

async function hmacHex(keyHex, text) {
  const bytes = new Uint8Array(keyHex.match(/../g).map((b) => parseInt(b, 16)));
  const key = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(text)));
  return Array.from(signature, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Signing out with unsent work: stop, offer to sync or to export it to a file for the desk.
async function exportWork() {
  const entries = await outboxOf(user);
  const photos = [];
  for (const entry of entries.filter((e) => e.type === 'photo')) {
    const photo = await getPhoto(entry.photoUuid);
    if (photo) {
      const buffer = new Uint8Array(await photo.blob.arrayBuffer());
      let binary = '';
      for (let i = 0; i < buffer.length; i += 32768) binary += String.fromCharCode(...buffer.subarray(i, i + 32768));
      photos.push({ uuid: photo.uuid, finding_uuid: photo.findingUuid ?? null, record_uuid: photo.recordUuid ?? null, sha256: photo.sha256, jpeg_base64: btoa(binary) });
    }
  }
  // The work as text, signed with this phone's key (HMAC-SHA256): the desk's import refuses a file
  // altered after this, or written by anyone else.
  const payload = JSON.stringify({ format: 'xuncha-unsynced-work/1', exported_at: new Date().toISOString(), user_id: user,
    entries: entries.map(({ id, ...e }) => e), photos, rounds: await roundsOfUser(user) });
  const key = await getMeta(`export-key:${user}`);
  const file = new Blob([JSON.stringify({ format: 'xuncha-unsynced-work/2', user_id: user, key_id: key?.id ?? null,
    signature: key ? await hmacHex(key.key, payload) : null, payload })], { type: 'application/json' });
  const link = h('a', { href: URL.createObjectURL(file), download: `xuncha-unsynced-${user}-${Date.now()}.json` });
  document.body.append(link);
  link.click();
  link.remove();
}
function signOut(form) {
  // Cached pages carry this user's name: the next user of the phone must not see them offline.
  navigator.serviceWorker?.controller?.postMessage({ type: 'FORGET_PAGES' });
  form.dataset.confirmed = '1';
  form.submit();
}
for (const form of document.querySelectorAll('form[action="/logout"]')) {
  form.addEventListener('submit', async (event) => {
    if (form.dataset.confirmed) return;
    event.preventDefault();
    if (!(await outboxOf(user)).length) {
      signOut(form);
      return;
    }
    notice('logout', T.logoutBlocked, ' ',
      h('button', { type: 'button', class: 'button primary', onclick: () => syncNow() }, T.syncNow), ' ',
      h('button', { type: 'button', class: 'button', onclick: exportWork }, T.exportWork), ' ',
      h('button', { type: 'button', class: 'button secondary', onclick: () => signOut(form) }, T.signOutAnyway));
    showDetails(true);
    window.scrollTo(0, 0);
  });
}

// The phone's storage full (or refused) wherever it happens: say what happened and what to do.
window.addEventListener('unhandledrejection', (event) => {
  const error = event.reason;
  if (error?.name === 'QuotaExceededError' || /quota/i.test(String(error?.message ?? ''))) {
    notice('storage-full', T.storageFull);
    event.preventDefault();
  }
});

setUpWorker();
showStorage();
showOutbox();
refreshPack().finally(() => syncNow());
