// Complaints on the today page: the investigation on site (現場調查) is recorded on the phone, with
// or without signal, like a repair check: the answer and its photos (shrunk here) go into the
// outbox under one UUID, with a meta record for the card, and the card shows where it stands.
import { newUuid } from './api.js';
import { h } from './dom.js';
import { compressPhoto } from './photo.js';
import { deleteMeta, enqueueWithMeta, metaFrom } from './store.js';
import { moveToPhone } from './phone-list.js';
import { currentUser, events, retryAttention, roundStatus } from './sync.js';

const T = JSON.parse(document.getElementById('app-strings').textContent);
const user = currentUser();
const KEY = `inv:${user}:`;
const MAX_PHOTOS = 3;
const STATUS = { local: 'statusLocal', sending: 'statusSending', office: 'statusOffice', attention: 'statusAttention', aside: 'statusAside' };

function controls(card) {
  const form = card.querySelector('.investigate-form');
  const file = form.querySelector('input[type=file]');
  const thumbs = form.querySelector('.inv-thumbs');
  const noteError = form.querySelector('.note-error');
  const photoError = form.querySelector('.photo-error');
  let photos = [];
  const fail = (message) => { photoError.textContent = message; photoError.hidden = !message; };
  const show = () => thumbs.replaceChildren(...photos.map((p) => h('span', { class: 'thumb local' },
    h('img', { src: URL.createObjectURL(p.blob), alt: '', width: 56, height: 56 }))));
  form.elements.note.addEventListener('input', () => { if (form.elements.note.value.trim()) noteError.hidden = true; });
  file.addEventListener('change', async () => {
    const picked = [...file.files];
    file.value = '';
    fail('');
    for (const one of picked) {
      if (photos.length >= MAX_PHOTOS) { fail(photoError.dataset.tooMany); break; }
      try {
        photos.push(await compressPhoto(one));
      } catch (error) {
        fail(T.photoFailed);
      }
    }
    show();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const note = form.elements.note.value.trim();
    noteError.hidden = note !== '';
    if (!note) { form.elements.note.focus(); return; }
    form.querySelector('button[type=submit]').disabled = true;
    const uuid = newUuid();
    const recordedAt = new Date().toISOString();
    const records = photos.map((p) => ({ uuid: newUuid(), roundUuid: uuid, recordUuid: uuid, blob: p.blob, sha256: p.sha256,
      width: p.width, height: p.height, size: p.blob.size, status: 'local', takenAt: recordedAt }));
    const body = { uuid, complaint_id: Number(card.dataset.complaint), note, photo_uuids: records.map((r) => r.uuid),
      recorded_at: recordedAt };
    // roundUuid is the outbox's unit of delivery: the investigation first, then its photos.
    await enqueueWithMeta([
      { user, type: 'investigation', roundUuid: uuid, url: '/api/v1/investigations', method: 'POST', body,
        bytes: JSON.stringify(body).length },
      ...records.map((r) => ({ user, type: 'photo', roundUuid: uuid, photoUuid: r.uuid, url: `/api/v1/photos/${r.uuid}`,
        method: 'PUT', bytes: r.size })),
    ], `${KEY}${card.dataset.complaint}`, { uuid, note, photos: records.length }, records);
    photos = [];
    document.dispatchEvent(new CustomEvent('xuncha:enqueued'));
    await refresh();
  });
}

async function showAnswers() {
  for (const { key, value } of await metaFrom(KEY)) {
    const status = await roundStatus(value.uuid);
    const card = document.querySelector(`.investigation-card[data-complaint="${key.slice(KEY.length)}"]`);
    if (!card) {
      if (status.status === 'office') await deleteMeta(key); // no longer listed: done
      continue;
    }
    card.querySelector('.investigate-open').hidden = true;
    card.className = `card investigation-card status-${status.status}`;
    moveToPhone(card, T.onThisPhone);
    const out = card.querySelector('.investigation-answer');
    out.hidden = false;
    out.replaceChildren(...[h('span', { class: `badge badge-${status.status}` }, T[STATUS[status.status]]),
      ` ${value.note}${value.photos ? ` · 📷 ${value.photos}` : ''}`,
      status.message ? h('div', { class: 'field-error' }, status.message) : null,
      status.status === 'attention'
        ? h('button', { type: 'button', class: 'button retry', onclick: () => retryAttention(value.uuid) }, T.tryAgain) : null,
    ].filter(Boolean));
  }
}

let chain = Promise.resolve();
function refresh() {
  chain = chain.then(showAnswers).catch((error) => console.error(error));
  return chain;
}

for (const card of document.querySelectorAll('.investigation-card')) controls(card);
document.addEventListener('xuncha:outbox', refresh);
events.addEventListener('sent', refresh);
refresh();
