// What the phone holds, in IndexedDB: rounds being walked (plan + answers), their photos (bytes and
// SHA-256), the outbox of requests still to reach the server (FIFO), and the offline pack.
import { openDB } from '../vendor/idb/idb.js';

const DB_NAME = 'xuncha';
const DB_VERSION = 2;

let dbPromise;
export function db() {
  dbPromise ??= openDB(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        database.createObjectStore('rounds', { keyPath: 'uuid' });
        database.createObjectStore('photos', { keyPath: 'uuid' }).createIndex('round', 'roundUuid');
      }
      if (oldVersion < 2) {
        database.createObjectStore('outbox', { keyPath: 'id', autoIncrement: true }).createIndex('user', 'user');
        database.createObjectStore('meta', { keyPath: 'key' });
      }
    },
    blocked() {},
    blocking() {
      // A newer page wants to upgrade the database: let it.
      dbPromise?.then((d) => d.close());
      dbPromise = undefined;
    },
  });
  return dbPromise;
}

export const getRound = async (uuid) => (await db()).get('rounds', uuid);
export async function putRound(round) {
  round.updatedAt = new Date().toISOString();
  await (await db()).put('rounds', round);
}
export const roundsOfUser = async (user) => (await (await db()).getAll('rounds')).filter((r) => r.user === user);

export const putPhoto = async (photo) => (await db()).put('photos', photo);
export const getPhoto = async (uuid) => (await db()).get('photos', uuid);
export const deletePhoto = async (uuid) => (await db()).delete('photos', uuid);
export const photosOfRound = async (roundUuid) => (await db()).getAllFromIndex('photos', 'round', roundUuid);

// Text is queued well formed: a note cut in the middle of an emoji keeps half of it (a lone UTF-16
// surrogate), which no server can store (it answers 422, and the round would wait for attention);
// the half becomes U+FFFD here, before the entry is queued.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
export function wellFormed(value) {
  if (typeof value === 'string') return value.toWellFormed ? value.toWellFormed() : value.replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [wellFormed(k), wellFormed(v)]));
  }
  return value; // numbers, booleans, null, Blobs
}

// The outbox: keys grow, so key order is the order things were captured.
const pending = (entry) => ({ status: 'pending', error: null, createdAt: new Date().toISOString(), ...entry,
  ...('body' in entry ? { body: wellFormed(entry.body) } : {}) });
export async function enqueue(entry) {
  return (await db()).add('outbox', pending(entry));
}
// An answer kept for its card (in meta) and its outbox entries (one or more, in order) and
// photos, written together: never one without the other.
export async function enqueueWithMeta(entries, key, value, photos = []) {
  const tx = (await db()).transaction(['outbox', 'meta', 'photos'], 'readwrite');
  const outbox = tx.objectStore('outbox');
  await Promise.all([...photos.map((p) => tx.objectStore('photos').put(p)),
    ...[entries].flat().map((e) => outbox.add(pending(e))), tx.objectStore('meta').put({ key, value }), tx.done]);
}
export const outboxOf = async (user) => (await db()).getAllFromIndex('outbox', 'user', user);
export const updateEntry = async (entry) => (await db()).put('outbox', entry);
export const removeEntry = async (id) => (await db()).delete('outbox', id);
// Changes to one entry read and written in one transaction: a change made meanwhile (set aside) is kept.
export async function patchEntry(id, changes) {
  const tx = (await db()).transaction('outbox', 'readwrite');
  const entry = await tx.store.get(id);
  if (entry) await tx.store.put({ ...entry, ...changes });
  await tx.done;
  return entry ? { ...entry, ...changes } : null;
}

export const getMeta = async (key) => (await (await db()).get('meta', key))?.value;
export const putMeta = async (key, value) => (await db()).put('meta', { key, value });
export const metaFrom = async (prefix) => (await db()).getAll('meta', IDBKeyRange.bound(prefix, `${prefix}\uffff`));
export const deleteMeta = async (key) => (await db()).delete('meta', key);
