// Sends the outbox. An entry leaves the phone only after a 2xx JSON answer that echoes its UUID;
// anything else keeps it. A 4xx (but 408/429) marks it "needs attention" with the server's message
// (a 409 is a conflict: the round page shows both versions); 401/403/CSRF stop sending until the
// user signs in again. An entry the steward set aside (with a reason) is never sent and stays in
// the outbox, so the export file still carries it.
//
// Over a weak signal the round trips overlap: up to CONCURRENCY requests are on their way at once,
// PHOTO_CONCURRENCY of them photos, one per lane. A lane is a round (or record): its entries go in the
// order they were captured (its start and completion, its corrections). A photo is a lane of its own
// that starts once its round's earlier entries are confirmed, so a round refused keeps its photos on
// the phone; rounds with a photo waiting go first, and photos go first while fewer than
// PHOTO_CONCURRENCY are on their way (the bandwidth is what the drain waits for).
// A photo goes in parts of PART_BYTES at the offset the server has (app/photos/resumable.py): after
// a cut the phone asks how much arrived and continues from there, so nothing that arrived is sent
// again. The progress (items and bytes, sent and in all) runs on across cuts and retries until the
// outbox is empty.
import { deletePhoto, getPhoto, outboxOf, patchEntry, putMeta, removeEntry, updateEntry } from './store.js';

export const events = new EventTarget();
const state = { running: false, token: null, retryMs: 5000, timer: null, inFlight: new Map(), again: false, stopping: false };
const CONCURRENCY = 5;
const PHOTO_CONCURRENCY = 3; // photos share the bandwidth; the other requests are small and wait on round trips
const PART_BYTES = 128 * 1024;

function emit(type, detail = {}) {
  events.dispatchEvent(new CustomEvent(type, { detail }));
}

// An entry's state: 'pending' (to send), 'attention' (refused: the steward acts), 'aside' (kept, not sent).
export const isWaiting = (entry) => !entry.status || entry.status === 'pending';

export function currentUser() {
  return Number(document.querySelector('meta[name="xuncha-user"]')?.content) || null;
}

async function freshSession() {
  // Pages may come from the cache with an old token: always ask for the current one.
  try {
    const response = await fetch('/api/v1/session', { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (response.status === 401 || response.status === 403) return { auth: true };
    if (!response.ok || !(response.headers.get('Content-Type') ?? '').includes('application/json')) return { offline: true };
    const data = await response.json();
    if (data.user_id !== currentUser()) return { auth: true }; // another user signed in on this phone
    return { token: data.csrf_token };
  } catch (error) {
    return { offline: true };
  }
}

// One request, its answer sorted: ok (2xx JSON echoing `echo`), auth, attention (a 4xx sending again
// cannot help), or retry (no network, a portal, 5xx, 408/429).
// A connection that died without a word (no reset reached the phone) would keep its request waiting for
// minutes and the outbox with it: a request gets REQUEST_TIMEOUT_MS, and more for a large body.
const REQUEST_TIMEOUT_MS = 30000;
const SLOWEST_BYTES_PER_S = 8000;

async function request(url, init, [field, echoed], bytes = init.body?.size ?? init.body?.length ?? 0) {
  if (state.stopping) return { retry: true, reason: 'network' }; // another request of this run failed: start none
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS + (bytes / SLOWEST_BYTES_PER_S) * 1000);
  let response;
  let data = null;
  try {
    response = await fetch(url, { credentials: 'same-origin', ...init, signal: controller.signal,
      headers: { Accept: 'application/json', 'X-CSRFToken': state.token, ...init.headers } });
    if ((response.headers.get('Content-Type') ?? '').includes('application/json')) {
      data = await response.json().catch(() => null);
    }
  } catch (error) {
    return { retry: true, reason: 'network' };
  } finally {
    clearTimeout(timer);
  }
  if (response.ok && data?.[field] === echoed) return { ok: true, data };
  if (response.status === 401 || response.status === 403 || (response.status === 400 && data?.errors?.csrf)) {
    return { auth: true };
  }
  // Any other 4xx is the request itself (malformed, refused, too large, a conflict): sending it again cannot
  // help, so it waits for the steward's attention. Only a timeout (408) or too many requests (429) is retried.
  if (response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status)) {
    const details = Object.entries(data?.errors ?? {}).filter(([k]) => !['unanswered_items', 'offset'].includes(k))
      .flatMap(([, v]) => v);
    return { attention: [data?.message ?? `HTTP ${response.status}`, ...details].filter(Boolean).join(' '),
             conflict: response.status === 409, status: response.status, errors: data?.errors ?? {} };
  }
  return { retry: true, reason: response.ok ? 'not-json' : `HTTP ${response.status}` }; // portal, 5xx…
}

const touched = new Set(); // photo entries this page began to send: after a failure, ask the server first

// A photo, in parts at the server's offset; `onSent(offset)` after each part the server confirmed.
async function sendPhoto(entry, onSent) {
  if (state.stopping) return { retry: true, reason: 'network' };
  const photo = await getPhoto(entry.photoUuid);
  if (!photo) return { gone: true };
  const size = photo.blob.size;
  const url = `/api/v1/photos/${encodeURIComponent(entry.photoUuid)}/upload`;
  const echo = ['uuid', entry.photoUuid];
  // A decoration record's photo (a flood test's) names its record; a round's its finding.
  const owner = photo.recordUuid ? { record_uuid: photo.recordUuid } : { finding_uuid: photo.findingUuid };
  let offset = 0;
  if (entry.sent || touched.has(entry.id)) { // cut before: how much did arrive?
    const status = await request(url, { method: 'GET' }, echo);
    if (!status.ok) return status;
    if (status.data.stored) return status;
    offset = status.data.size === size ? status.data.offset : 0;
    onSent(offset);
  }
  touched.add(entry.id);
  let restarted = false;
  // Photos sent together share the bandwidth evenly: with parts of one size they would all wait for their
  // answers at the same moments, leaving the link idle. Parts of 3/4, 1 or 5/4 of PART_BYTES keep them apart.
  const partBytes = PART_BYTES * [3, 4, 5][entry.id % 3] / 4;
  for (let refused = 0; refused < 3;) {
    const end = Math.min(offset + partBytes, size);
    const query = new URLSearchParams({ offset, size, sha256: photo.sha256, ...owner });
    const result = await request(`${url}?${query}`, { method: 'PUT', body: photo.blob.slice(offset, end),
      headers: { 'Content-Type': 'application/octet-stream' } }, echo);
    if (result.ok && result.data.stored) return result;
    if (result.ok) {
      offset = result.data.offset;
      onSent(offset);
    } else if (result.status === 409 && result.errors.offset) {
      offset = Number(result.errors.offset[0]); // the server has other bytes than we thought: continue from its offset
      onSent(offset);
      refused += 1;
    } else if (result.status === 422 && result.errors.sha256 && !restarted) {
      offset = 0; // the whole photo did not match its hash: the server dropped it, once more from the start
      onSent(offset);
      restarted = true;
    } else {
      return result;
    }
  }
  return sendWhole(entry, photo); // the server keeps answering another offset (parts reaching another host)
}

// A photo in one request (multipart), as before parts: any host takes it.
function sendWhole(entry, photo) {
  const body = new FormData();
  if (photo.recordUuid) body.append('record_uuid', photo.recordUuid);
  else body.append('finding_uuid', photo.findingUuid);
  body.append('sha256', photo.sha256);
  body.append('file', photo.blob, `${photo.uuid}.jpg`);
  return request(`/api/v1/photos/${encodeURIComponent(entry.photoUuid)}`, { method: 'PUT', body },
    ['uuid', entry.photoUuid], photo.blob.size);
}

function send(entry, onSent) {
  if (entry.type === 'photo') return sendPhoto(entry, onSent);
  // What the answer must echo: a correction's finding, else the entry's own UUID.
  const echo = entry.echo ? [entry.echo.field, entry.echo.value] : ['uuid', entry.roundUuid];
  return request(entry.url, { method: entry.method, headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(entry.body) }, echo);
}

// The completion entry, carrying its round's start (the start's UUID is the completion's path).
function withStart(completion, start) {
  const { uuid, ...place } = start.body;
  return { ...completion, body: { ...completion.body, start: place } };
}

const OFFLINE_RETRY_MS = 30000; // no signal: the 'online' event usually comes first
const FIRST_RETRY_MS = 5000;
const LAST_RETRY_MS = 5 * 60 * 1000;

function scheduleRetry(offline = false) {
  clearTimeout(state.timer);
  if (offline) {
    state.timer = setTimeout(syncNow, OFFLINE_RETRY_MS);
  } else {
    // The server answered badly: back off, so a struggling server is not hammered.
    state.timer = setTimeout(syncNow, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, LAST_RETRY_MS);
  }
  navigator.serviceWorker?.ready.then((reg) => reg.sync?.register('xuncha-outbox')).catch(() => {});
}

export function signalBack() {
  state.retryMs = FIRST_RETRY_MS;
  return syncNow();
}

export function isSending() {
  return state.running;
}

export function sendingEntry() {
  return state.inFlight.values().next().value ?? null;
}

// One drain of the outbox, from the first entry sent until none waits: what it sent so far, kept across
// its runs (a cut, a retry) and this tab's pages, so the progress goes on instead of counting from 1.
const DRAIN_KEY = 'xuncha-drain';
const drain = { user: null, items: 0, bytes: 0, waiting: new Map(), sent: new Map() };
function loadDrain(user) {
  let kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(DRAIN_KEY)); } catch (error) { kept = null; }
  Object.assign(drain, kept?.user === user ? { user, items: kept.items, bytes: kept.bytes } : { user, items: 0, bytes: 0 });
}
function saveDrain() {
  try { sessionStorage.setItem(DRAIN_KEY, JSON.stringify({ user: drain.user, items: drain.items, bytes: drain.bytes })); } catch (error) { /* private mode */ }
}
function endDrain() {
  Object.assign(drain, { items: 0, bytes: 0 });
  drain.waiting.clear();
  drain.sent.clear();
  try { sessionStorage.removeItem(DRAIN_KEY); } catch (error) { /* private mode */ }
}

// Items and bytes sent and in all (a photo's parts count as they arrive); null when nothing is on its way.
export function progress() {
  if (!drain.waiting.size) return null;
  let totalBytes = drain.bytes;
  let bytes = drain.bytes;
  for (const entry of drain.waiting.values()) {
    totalBytes += entry.bytes ?? 0;
    bytes += Math.min(drain.sent.get(entry.id) ?? entry.sent ?? 0, entry.bytes ?? 0);
  }
  return { done: drain.items, total: drain.items + drain.waiting.size, bytes, totalBytes };
}
const emitProgress = () => emit('progress', progress() ?? { done: 0, total: 0, bytes: 0, totalBytes: 0 });

// The entries a run sends: waiting, and not behind an entry of their round that waits for the steward.
function sendable(entries) {
  const blocked = new Set(entries.filter((e) => !isWaiting(e)).map((e) => e.roundUuid));
  return new Map(entries.filter((e) => isWaiting(e) && !blocked.has(e.roundUuid)).map((e) => [e.id, e]));
}

// Entries leave in their lane's order, CONCURRENCY at a time, each lane one at a time.
async function sendAll(entries) {
  const blocked = new Set(entries.filter((e) => !isWaiting(e)).map((e) => e.roundUuid));
  const queue = entries.filter((e) => isWaiting(e) && !blocked.has(e.roundUuid));
  const busy = new Set();
  let stop = null;
  let wake = [];
  const changed = () => new Promise((resolve) => { wake.push(resolve); });
  const woken = () => { const all = wake; wake = []; all.forEach((resolve) => resolve()); };
  // A photo has a lane of its own: the server takes it before its finding's round (the round names it
  // when it comes), so photos use the bandwidth while the rounds wait on their round trips.
  const lane = (entry) => (entry.type === 'photo' ? `photo:${entry.photoUuid}` : entry.roundUuid ?? '');

  function take() {
    // A photo first while one may go (the bandwidth is what the drain waits for), else the next entry.
    const photos = [...state.inFlight.values()].filter((e) => e.type === 'photo').length;
    const free = (e) => !busy.has(lane(e));
    // A photo goes once its round's earlier entries are confirmed (a round refused keeps its photos).
    const before = (photo) => (e) => e.id < photo.id && e.roundUuid === photo.roundUuid && e.type !== 'photo';
    const ahead = (photo) => queue.some(before(photo)) || [...state.inFlight.values()].some(before(photo));
    const photoSlot = photos < PHOTO_CONCURRENCY;
    let index = photoSlot ? queue.findIndex((e) => e.type === 'photo' && free(e) && !ahead(e)) : -1;
    // Else a round with a photo (so that a photo is ready when one may go), else the next entry.
    if (index < 0) {
      const withPhoto = new Set(queue.filter((e) => e.type === 'photo').map((e) => e.roundUuid));
      index = queue.findIndex((e) => e.type !== 'photo' && free(e) && withPhoto.has(e.roundUuid));
    }
    if (index < 0) index = queue.findIndex((e) => e.type !== 'photo' && free(e));
    if (index < 0) return null;
    const [entry] = queue.splice(index, 1);
    if (entry.type !== 'start') return [entry];
    // A round walked offline: its start rides with its completion, one request and one
    // transaction; both entries leave the outbox only when that answer confirms the round.
    const at = queue.findIndex((e) => e.type === 'complete' && e.roundUuid === entry.roundUuid);
    return at < 0 ? [entry] : [entry, ...queue.splice(at, 1)];
  }

  async function deliver(together) {
    const [entry] = together;
    const completion = together[1];
    state.inFlight.set(entry.id, entry);
    emit('sending', { entry });
    const result = await send(completion ? withStart(completion, entry) : entry, (offset) => {
      drain.sent.set(entry.id, offset);
      patchEntry(entry.id, { sent: offset }).catch(() => {});
      emitProgress();
    });
    state.inFlight.delete(entry.id);
    if (result.ok || result.gone) {
      for (const sent of together) {
        await removeEntry(sent.id);
        if (sent.type === 'photo') await deletePhoto(sent.photoUuid); // the office has it now
        if (sent.answerKey && result.data) await putMeta(sent.answerKey, result.data); // e.g. the server's times
        drain.waiting.delete(sent.id);
        drain.sent.delete(sent.id);
        drain.items += 1;
        drain.bytes += sent.bytes ?? 0;
        saveDrain();
        emit('sent', { entry: sent });
      }
      emitProgress();
    } else if (result.auth) {
      stop ??= { auth: true };
      state.stopping = true;
    } else if (result.attention) {
      await updateEntry({ ...together.at(-1), status: 'attention', error: result.attention, conflict: result.conflict });
      blocked.add(entry.roundUuid);
      for (let i = queue.length - 1; i >= 0; i -= 1) if (queue[i].roundUuid === entry.roundUuid) queue.splice(i, 1);
      emit('attention', { entry, message: result.attention });
    } else {
      stop ??= { retry: true, reason: result.reason };
      state.stopping = true;
    }
  }

  async function worker() {
    while (!stop && queue.length) {
      const together = take();
      if (!together) { await changed(); continue; } // every lane left is busy: wait for one
      const key = lane(together[0]);
      busy.add(key);
      try {
        await deliver(together);
      } finally {
        busy.delete(key);
        woken();
      }
    }
    woken();
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return stop;
}

export async function syncNow() {
  const user = currentUser();
  if (!user) return;
  if (state.running) { state.again = true; return; } // asked again while sending: go once more after
  state.again = false;
  state.running = true; // before the first await: one sync at a time in this page
  try {
    if (drain.user !== user) loadDrain(user);
    const pending = (await outboxOf(user)).filter(isWaiting);
    if (!pending.length) { endDrain(); emit('idle'); return; }
    const session = await freshSession();
    if (session.auth) { emit('login-required'); return; }
    if (session.offline) { emit('offline'); scheduleRetry(true); return; }
    state.token = session.token;
    const entries = (await outboxOf(user)).sort((a, b) => a.id - b.id);
    drain.waiting = sendable(entries);
    emitProgress();
    state.stopping = false;
    const stop = await sendAll(entries);
    if (stop?.auth) { emit('login-required'); return; }
    if (stop?.retry) {
      emit('retrying', { reason: stop.reason });
      scheduleRetry(stop.reason === 'network' && !navigator.onLine);
      return;
    }
    endDrain(); // all sent but what waits for the steward's attention
    state.retryMs = FIRST_RETRY_MS;
    emit('idle');
  } finally {
    state.running = false;
    state.inFlight.clear();
    emit('changed');
    if (state.again) setTimeout(syncNow);
  }
}

export async function retryAttention(roundUuid) {
  const user = currentUser();
  for (const entry of await outboxOf(user)) {
    if (entry.roundUuid === roundUuid && entry.status === 'attention') {
      await updateEntry({ ...entry, status: 'pending', error: null });
    }
  }
  await syncNow();
}

// Set aside: never sent, kept (with the steward's reason) for the export file.
export async function setAside(roundUuid, reason) {
  for (const entry of await outboxOf(currentUser())) {
    if (entry.roundUuid === roundUuid) await updateEntry({ ...entry, status: 'aside', reason, error: null });
  }
  emit('changed');
}

// Per round: "local" (on this phone), "sending", "attention" (with the reason), "aside" or "office".
export async function roundStatus(roundUuid) {
  const entries = (await outboxOf(currentUser())).filter((e) => e.roundUuid === roundUuid);
  const attention = entries.find((e) => e.status === 'attention');
  if (attention) return { status: 'attention', message: attention.error, conflict: Boolean(attention.conflict), entry: attention };
  const aside = entries.find((e) => e.status === 'aside');
  if (aside) return { status: 'aside', message: aside.reason };
  if (!entries.length) return { status: 'office' };
  if ([...state.inFlight.values()].some((e) => e.roundUuid === roundUuid)) return { status: 'sending' };
  return { status: 'local' };
}
