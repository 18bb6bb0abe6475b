// What the phone holds: rounds being walked (plan + answers) and their photos, in IndexedDB.
import { openDB } from '../vendor/idb/idb.js';

const DB_NAME = 'xuncha';
const DB_VERSION = 1;

let dbPromise;
export function db() {
  dbPromise ??= openDB(DB_NAME, DB_VERSION, {
    upgrade(database) {
      database.createObjectStore('rounds', { keyPath: 'uuid' });
      const photos = database.createObjectStore('photos', { keyPath: 'uuid' });
      photos.createIndex('round', 'roundUuid');
    },
  });
  return dbPromise;
}

export async function getRound(uuid) {
  return (await db()).get('rounds', uuid);
}

export async function putRound(round) {
  round.updatedAt = new Date().toISOString();
  await (await db()).put('rounds', round);
}

export async function putPhoto(photo) {
  await (await db()).put('photos', photo);
}

export async function getPhoto(uuid) {
  return (await db()).get('photos', uuid);
}

export async function deletePhoto(uuid) {
  await (await db()).delete('photos', uuid);
}

export async function photosOfRound(roundUuid) {
  return (await db()).getAllFromIndex('photos', 'round', roundUuid);
}
