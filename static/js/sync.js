// Sends the outbox, oldest first. An entry leaves the phone only after a 2xx JSON answer that
// echoes its UUID; anything else keeps it. A 4xx (but 408/429) marks it "needs attention" with the
// server's message (a 409 is a conflict: the round page shows both versions); 401/403/CSRF stop
// sending until the user signs in again. An entry the steward set aside (with a reason) is never
// sent and stays in the outbox, so the export file still carries it.
import { deletePhoto, getPhoto, outboxOf, putMeta, removeEntry, updateEntry } from './store.js';

export const events = new EventTarget();
const state = { running: false, token: null, retryMs: 5000, timer: null, current: null };

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

async function send(entry) {
  const headers = { Accept: 'application/json', 'X-CSRFToken': state.token };
  let body;
  if (entry.type === 'photo') {
    const photo = await getPhoto(entry.photoUuid);
    if (!photo) return { gone: true };
    body = new FormData();
    // A decoration record's photo (a flood test's) names its record; a round's its finding.
    if (photo.recordUuid) body.append('record_uuid', photo.recordUuid);
    else body.append('finding_uuid', photo.findingUuid);
    body.append('sha256', photo.sha256);
    body.append('file', photo.blob, `${photo.uuid}.jpg`);
  } else {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(entry.body);
  }
  let response;
  try {
    response = await fetch(entry.url, { method: entry.method, headers, body, credentials: 'same-origin' });
  } catch (error) {
    return { retry: true, reason: 'network' };
  }
  const isJson = (response.headers.get('Content-Type') ?? '').includes('application/json');
  const data = isJson ? await response.json().catch(() => null) : null;
  // What the answer must echo: a photo's UUID, a correction's finding, else the entry's own UUID.
  const [field, echoed] = entry.type === 'photo' ? ['uuid', entry.photoUuid]
    : entry.echo ? [entry.echo.field, entry.echo.value] : ['uuid', entry.roundUuid];
  if (response.ok && data?.[field] === echoed) return { ok: true, data };
  if (response.status === 401 || response.status === 403 || (response.status === 400 && data?.errors?.csrf)) {
    return { auth: true };
  }
  // Any other 4xx is the request itself (malformed, refused, too large, a conflict): sending it again cannot
  // help, so it waits for the steward's attention. Only a timeout (408) or too many requests (429) is retried.
  if (response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status)) {
    const details = Object.entries(data?.errors ?? {}).filter(([k]) => k !== 'unanswered_items').flatMap(([, v]) => v);
    return { attention: [data?.message ?? `HTTP ${response.status}`, ...details].filter(Boolean).join(' '),
             conflict: response.status === 409 };
  }
  return { retry: true, reason: response.ok ? 'not-json' : `HTTP ${response.status}` }; // portal, 5xx…
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
  return state.current;
}

export async function syncNow() {
  const user = currentUser();
  if (!user) return;
  if (state.running) { state.again = true; return; } // asked again while sending: go once more after
  state.again = false;
  state.running = true; // before the first await: one sync at a time in this page
  try {
    const pending = (await outboxOf(user)).filter(isWaiting);
    if (!pending.length) { emit('idle'); return; }
    const session = await freshSession();
    if (session.auth) { emit('login-required'); return; }
    if (session.offline) { emit('offline'); scheduleRetry(true); return; }
    state.token = session.token;
    const entries = (await outboxOf(user)).sort((a, b) => a.id - b.id);
    const total = entries.filter(isWaiting).length;
    const totalBytes = entries.reduce((sum, e) => sum + (isWaiting(e) ? e.bytes ?? 0 : 0), 0);
    const blocked = new Set(entries.filter((e) => !isWaiting(e)).map((e) => e.roundUuid));
    let done = 0;
    let bytes = 0;
    emit('progress', { done, total, bytes, totalBytes });
    const carried = new Set(); // completions already sent with their round's start
    for (const entry of entries) {
      if (!isWaiting(entry) || blocked.has(entry.roundUuid) || carried.has(entry.id)) continue;
      // A round walked offline: its start rides with its completion, one request and one
      // transaction; both entries leave the outbox only when that answer confirms the round.
      const completion = entry.type === 'start'
        ? entries.find((e) => e.type === 'complete' && e.roundUuid === entry.roundUuid && isWaiting(e))
        : null;
      const together = completion ? [entry, completion] : [entry];
      state.current = entry;
      emit('sending', { entry });
      const result = await send(completion ? withStart(completion, entry) : entry);
      if (result.ok || result.gone) {
        for (const sent of together) {
          await removeEntry(sent.id);
          carried.add(sent.id);
          if (sent.type === 'photo') await deletePhoto(sent.photoUuid); // the office has it now
          if (sent.answerKey && result.data) await putMeta(sent.answerKey, result.data); // e.g. the server's times
          emit('sent', { entry: sent });
          done += 1;
          bytes += sent.bytes ?? 0;
        }
        emit('progress', { done, total, bytes, totalBytes });
      } else if (result.auth) {
        emit('login-required');
        return;
      } else if (result.attention) {
        await updateEntry({ ...together.at(-1), status: 'attention', error: result.attention, conflict: result.conflict });
        blocked.add(entry.roundUuid);
        emit('attention', { entry, message: result.attention });
      } else {
        emit('retrying', { reason: result.reason });
        scheduleRetry(result.reason === 'network' && !navigator.onLine);
        return;
      }
    }
    state.retryMs = FIRST_RETRY_MS;
    emit('idle');
  } finally {
    state.running = false;
    state.current = null;
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
  if (state.current?.roundUuid === roundUuid) return { status: 'sending' };
  return { status: 'local' };
}
