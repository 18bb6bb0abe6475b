// Decoration on the today page: material requests from the gate, violation re-checks and flood
// tests (閉水試驗). The server renders what it knows; each answer is written to the outbox with a
// meta record for its card (so it works with no signal) and shows where it stands.
import { api, newUuid } from './api.js';
import { format, h } from './dom.js';
import { compressPhoto } from './photo.js';
import { deleteMeta, enqueueWithMeta, getMeta, metaFrom } from './store.js';
import { moveToPhone } from './phone-list.js';
import { currentUser, events, retryAttention, roundStatus } from './sync.js';

const T = { ...JSON.parse(document.getElementById('app-strings').textContent),
  ...JSON.parse(document.getElementById('decoration-strings').textContent) };
const user = currentUser();
const KEY = `dec:${user}:`;
const FLOOD = `${KEY}flood:`;
const answerKey = (uuid) => `ans:${user}:${uuid}`; // the server's answer (its times), kept by sync.js
const HOURS_48 = 48 * 3600 * 1000;
const STATUS = { local: 'statusLocal', sending: 'statusSending', office: 'statusOffice', attention: 'statusAttention' };
const now = () => new Date().toISOString();
// Always in the estate's time zone (as the server writes times), whatever the phone's is set to.
const ESTATE_TZ = document.querySelector('[data-estate-tz]')?.dataset.estateTz || undefined;
const at = (iso, timeZone = ESTATE_TZ) => new Date(iso).toLocaleString(document.documentElement.lang || undefined,
  { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false, timeZone });

function badge(uuid, status, text) {
  return [h('span', { class: `badge badge-${status.status}` }, T[STATUS[status.status]]), text ? ` ${text}` : '',
    status.message ? h('div', { class: 'field-error' }, status.message) : null,
    status.status === 'attention'
      ? h('button', { type: 'button', class: 'button retry', onclick: () => retryAttention(uuid) }, T.tryAgain) : null]
    .filter(Boolean); // replaceChildren(null) writes "null"
}

async function enqueue(entries, key, value, photos) {
  await enqueueWithMeta(entries, key, value, photos);
  document.dispatchEvent(new CustomEvent('xuncha:enqueued'));
  refresh();
}

const post = (type, roundUuid, url, body, extra = {}) => ({
  user, type, roundUuid, url, method: 'POST', body, bytes: JSON.stringify(body).length, ...extra });

// A note and answer buttons; some answers need the note (`needsNote`).
// `noteLater`: the note shows only once an answer that needs it is picked (a short card until then).
function answerForm(noteLabel, noteError, buttons, onAnswer, noteLater = false) {
  const id = `n-${newUuid()}`;
  const error = h('p', { class: 'field-error', hidden: true }, noteError);
  const note = h('div', { class: 'dec-note', hidden: noteLater },
    h('label', { class: 'sub-label', for: id }, noteLabel),
    h('textarea', { id, name: 'note', rows: 2, maxlength: 1000 }));
  const form = h('form', { class: 'dec-form' },
    note,
    error,
    buttons.map((b) => h('button', { type: 'submit', value: b.value, disabled: b.disabled,
      class: `button block ${b.cls ?? ''} answer-${b.value}` }, b.text)));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = buttons.find((b) => b.value === event.submitter?.value);
    if (!button) return;
    const noteBox = form.querySelector('.dec-note');
    const note = form.elements.note.value.trim();
    error.hidden = !button.needsNote || note !== '';
    if (!error.hidden) { noteBox.hidden = false; form.elements.note.focus(); return; }
    for (const b of form.querySelectorAll('button')) b.disabled = true;
    await onAnswer(button.value, note, button.text);
  });
  return form;
}

// Material requests (裝修材料進場): approve, or refuse with a reason.
function materialControls(card) {
  const id = Number(card.dataset.request);
  card.append(answerForm(T.refuseReason, T.sayWhyRefused,
    [{ value: '1', text: T.approve, cls: 'primary' }, { value: '0', text: T.refuse, needsNote: true }],
    (value, note, label) => {
      const uuid = newUuid();
      const body = { uuid, approved: value === '1', reason: note, recorded_at: now() };
      return enqueue(post('material', uuid, `/api/v1/material-requests/${id}/decision`, body),
        `${KEY}material:${id}`, { uuid, label, note });
    }, true), h('div', { class: 'round-when dec-answer', hidden: true }));
}

function materialCard(r) {
  return h('li', { class: 'card material-card', 'data-request': r.id },
    h('div', { class: 'round-kind' }, r.unit),
    h('div', { class: 'round-place' }, r.materials),
    r.contractor ? h('div', { class: 'round-when' }, `${T.contractor}: ${r.contractor}`) : null,
    r.photo_uuid ? h('div', { class: 'thumbs' }, h('a', { class: 'thumb', target: '_blank', href: `/photos/${r.photo_uuid}/display` },
      h('img', { src: `/photos/${r.photo_uuid}/thumb`, alt: T.materialPhoto, width: 72, height: 72 }))) : null,
    h('div', { class: 'round-when' }, format(T.askedAt, { at: at(r.raised_at) })));
}

// New requests reach the steward while the page is open (and online).
async function poll() {
  const section = document.getElementById('materials');
  if (!section || document.visibilityState !== 'visible' || !navigator.onLine) return;
  const result = await api('/api/v1/material-requests');
  if (!result.ok) return;
  const fresh = result.data.items.filter((r) => !section.querySelector(`[data-request="${r.id}"]`));
  if (!fresh.length) return;
  for (const r of fresh) {
    const card = materialCard(r);
    section.querySelector('ul').prepend(card);
    materialControls(card);
  }
  section.hidden = false;
  document.getElementById('dec-announce').textContent = format(T.newMaterial, { unit: fresh.map((r) => r.unit).join(', ') });
  refresh();
}

// Re-checks (複查) at the deadline.
function recheckControls(card) {
  const id = Number(card.dataset.violation);
  // Folded: the card stays one short block until the steward is at the unit.
  card.append(folded('recheck-open', T.recheckOnSite, () => answerForm(T.recheckNote, T.sayWhatIsWrong, [
    { value: 'rectified', text: T.rectified, cls: 'primary' },
    { value: 'not_rectified', text: T.notRectified, needsNote: true },
    { value: 'refused', text: T.refuses, needsNote: true },
  ], (result, note, label) => {
    const uuid = newUuid();
    const body = { uuid, violation_id: id, result, note, recorded_at: now() };
    return enqueue(post('recheck', uuid, '/api/v1/violation-rechecks', body), `${KEY}recheck:${id}`, { uuid, label, note });
  })), h('div', { class: 'round-when dec-answer', hidden: true }));
}

async function showAnswers(kind, attr) {
  for (const { key, value } of await metaFrom(`${KEY}${kind}:`)) {
    const status = await roundStatus(value.uuid);
    const card = document.querySelector(`[data-${attr}="${key.slice(KEY.length + kind.length + 1)}"]`);
    if (!card) {
      if (status.status === 'office') await deleteMeta(key); // no longer listed: done
      continue;
    }
    const form = card.querySelector('.recheck-open') ?? card.querySelector('.dec-form');
    if (form) form.hidden = true;
    moveToPhone(card, T.onThisPhone); // answered here: "on this phone"
    card.dataset.status = status.status;
    const out = card.querySelector('.dec-answer');
    out.hidden = false;
    out.replaceChildren(...badge(value.uuid, status, `${value.label}${value.note ? ` · ${value.note}` : ''}`));
  }
}

// Flood tests: started with a photo of the water level; every step of a test shares the test's
// UUID in the outbox, so a refused step holds back the later ones.
function startForm(unitCard) {
  const unitId = Number(unitCard.dataset.unit);
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const preview = h('span');
  let photo = null;
  const fail = (message) => { error.textContent = message; error.hidden = false; };
  const file = h('input', { type: 'file', accept: 'image/*', capture: 'environment', class: 'visually-hidden',
    onchange: async (event) => {
      const [picked] = event.target.files;
      if (!picked) return;
      try {
        photo = await compressPhoto(picked);
        error.hidden = true;
        preview.replaceChildren(h('span', { class: 'thumb local' },
          h('img', { src: URL.createObjectURL(photo.blob), alt: T.waterPhoto, width: 72, height: 72 })));
      } catch (e) {
        photo = null;
        fail(T.photoFailed);
      }
    } });
  const areas = ['bathroom', 'kitchen', 'balcony'];
  const form = h('form', { class: 'flood-start' },
    h('label', { class: 'sub-label' }, T.wetArea,
      h('select', { name: 'area' }, areas.map((a) => h('option', { value: a }, T[`area_${a}`])))),
    h('label', { class: 'sub-label' }, T.waterLevel,
      h('input', { type: 'text', name: 'level', inputmode: 'decimal', autocomplete: 'off', maxlength: 6 })),
    h('div', { class: 'thumbs' }, preview, h('label', { class: 'button photo-button' }, T.takePhoto, file)),
    error,
    h('button', { type: 'submit', class: 'button primary block' }, T.start));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const area = form.elements.area.value;
    const level = form.elements.level.value.trim().replace(',', '.');
    if (level && !/^\d{1,4}(\.\d)?$/.test(level)) { fail(T.notANumber); return; }
    if (!photo) { fail(T.photoNeeded); return; }
    if (unitCard.querySelector(`.flood-test[data-area="${area}"][data-running="1"]`)) { fail(T.alreadyRunning); return; }
    const [uuid, photoUuid] = [newUuid(), newUuid()];
    const body = { uuid, unit_id: unitId, wet_area: area, photo_uuid: photoUuid,
      water_level_cm: level === '' ? null : Number(level), recorded_at: now() };
    const record = { uuid: photoUuid, roundUuid: uuid, recordUuid: uuid, blob: photo.blob, sha256: photo.sha256,
      width: photo.width, height: photo.height, size: photo.blob.size, status: 'local', takenAt: body.recorded_at };
    photo = null;
    form.reset();
    preview.replaceChildren();
    form.closest('details').open = false;
    await enqueue([
      post('flood-start', uuid, '/api/v1/flood-tests', body, { answerKey: answerKey(uuid) }),
      { user, type: 'photo', roundUuid: uuid, photoUuid, url: `/api/v1/photos/${photoUuid}`, method: 'PUT', bytes: record.size },
    ], `${FLOOD}${uuid}`, { uuid, unitId, area, local: true, startedAt: body.recorded_at }, [record]);
  });
  return form;
}

// Forms behind a "details" are made when it is opened: a short page, nothing hidden to tab through.
function folded(cls, title, make) {
  const details = h('details', { class: cls }, h('summary', { class: 'button block' }, title));
  details.addEventListener('toggle', () => { if (details.open && details.children.length === 1) details.append(make()); });
  return details;
}

async function step(uuid, name, path, body) {
  const key = `${FLOOD}${uuid}`;
  const test = (await getMeta(key)) ?? { uuid };
  await enqueue(post(`flood-${name}`, uuid, `/api/v1/flood-tests/${uuid}/${path}`, body, { answerKey: answerKey(uuid) }),
    key, { ...test, [name]: body });
}

function neighbourForm(uuid) {
  const error = h('p', { class: 'field-error', hidden: true });
  const radio = (value, text, checked) => h('label', { class: 'check' },
    h('input', { type: 'radio', name: 'leak', value, checked }), ` ${text}`);
  const form = h('form', { class: 'neighbour-form' },
    h('label', { class: 'sub-label' }, T.neighbourUnits, h('input', { type: 'text', name: 'units', maxlength: 255 })),
    radio('0', T.noLeak, true), radio('1', T.leak, false),
    h('label', { class: 'sub-label' }, T.note, h('textarea', { name: 'note', rows: 2, maxlength: 1000 })),
    error,
    h('button', { type: 'submit', class: 'button primary block' }, T.save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const units = form.elements.units.value.trim();
    const leak = form.elements.leak.value === '1';
    const note = form.elements.note.value.trim();
    const problem = !units ? T.nameUnits : leak && !note ? T.describeLeak : null;
    error.textContent = problem ?? '';
    error.hidden = !problem;
    if (problem) return;
    form.querySelector('button').disabled = true;
    await step(uuid, 'neighbour', 'neighbour-check', { uuid: newUuid(), units, leak, note, recorded_at: now() });
  });
  return form;
}

async function renderTest(card, test, status) {
  const uuid = card.dataset.test;
  const answer = await getMeta(answerKey(uuid));
  const leak = test?.neighbour?.leak;
  const running = card.dataset.running === '1' && !test?.result && !leak && (!answer || answer.status === 'running');
  const neighbourDone = card.dataset.neighbour === '1' || Boolean(test?.neighbour);
  const earliest = answer?.earliest_pass_at ?? card.dataset.earliest ?? null;
  // The phone's clock is only a hint: the server decides when 48 hours have passed.
  const from = earliest ? Date.parse(earliest) : Date.parse(test?.startedAt ?? now()) + HOURS_48;
  const mayPass = neighbourDone && Date.now() >= from;
  const tz = card.closest('.flood-unit')?.dataset.tz || ESTATE_TZ;
  if (card.dataset.local && !card.querySelector('.flood-head')) {
    card.prepend(h('div', { class: 'flood-head' }, h('strong', {}, T[`area_${test.area}`]), ` · ${T.running}`),
      h('div', { class: 'round-when' }, format(T.startedHere, { at: at(test.startedAt, tz) })));
  }
  let local = card.querySelector('.flood-local');
  if (!local) {
    local = h('div', { class: 'round-when flood-local' });
    const actions = card.querySelector('.flood-actions');
    if (actions) actions.before(local); else card.append(local);
  }
  const done = [test?.neighbour && `${T.neighboursChecked}: ${test.neighbour.units} · ${test.neighbour.leak ? T.leak : T.noLeak}`,
    test?.result && `${test.result.passed ? T.passed : T.failed}${test.result.note ? ` · ${test.result.note}` : ''}`];
  local.replaceChildren(...(test && status ? badge(uuid, status, done.filter(Boolean).join(' · ')) : []));
  local.hidden = !test;
  if (test) card.closest('details.fold')?.setAttribute('open', ''); // what this phone holds is shown
  const sig = [running, neighbourDone, mayPass, earliest].join('|');
  if (card.dataset.sig === sig) return; // keep what is being typed
  card.dataset.sig = sig;
  card.querySelector('.flood-actions')?.remove();
  if (!running) { card.dataset.running = ''; return; }
  card.append(h('div', { class: 'flood-actions' },
    // A card from the server already says when; one started here learns it from the server's answer.
    card.dataset.local ? h('p', { class: 'pass-from' }, earliest ? format(T.canPassFrom, { at: at(earliest, tz) }) : T.passAfterOffice) : null,
    neighbourDone ? null : folded('neighbour', T.neighbourCheck, () => neighbourForm(uuid)),
    neighbourDone ? null : h('p', { class: 'item-hint' }, T.checkNeighboursFirst),
    folded('flood-answer', T.floodResult, () => answerForm(T.failNote, T.sayWhyFailed, [
      { value: '1', text: T.pass, cls: 'primary', disabled: !mayPass },
      { value: '0', text: T.fail, needsNote: true },
    ], (value, note) => step(uuid, 'result', 'result',
      { uuid: newUuid(), passed: value === '1', note, photo_uuid: null, recorded_at: now() })))));
}

async function showFlood() {
  const mine = new Map();
  for (const { key, value: test } of await metaFrom(FLOOD)) {
    const status = await roundStatus(test.uuid);
    let card = document.querySelector(`.flood-test[data-test="${test.uuid}"]`);
    const stage = test.result ? 3 : test.neighbour ? 2 : 1;
    if (status.status === 'office' && card && !card.dataset.local && Number(card.dataset.stage) >= stage) {
      await deleteMeta(key); // the page shows all of it, from the server
      await deleteMeta(answerKey(test.uuid));
      continue;
    }
    if (!card) {
      const list = document.querySelector(`.flood-unit[data-unit="${test.unitId}"] .flood-list`);
      if (!list || !test.local) continue; // a page from before: the next one shows it
      card = h('li', { class: 'flood-test', 'data-test': test.uuid, 'data-local': '1', 'data-area': test.area, 'data-running': '1' });
      list.append(card);
    }
    mine.set(test.uuid, [test, status]);
  }
  for (const card of document.querySelectorAll('.flood-test')) await renderTest(card, ...(mine.get(card.dataset.test) ?? []));
}

let chain = Promise.resolve();
function refresh() {
  chain = chain.then(async () => {
    await showAnswers('material', 'request');
    await showAnswers('recheck', 'violation');
    await showFlood();
  }).catch((error) => console.error(error));
  return chain;
}

for (const card of document.querySelectorAll('.material-card')) materialControls(card);
for (const card of document.querySelectorAll('.recheck-card')) recheckControls(card);
for (const unit of document.querySelectorAll('.flood-unit')) unit.append(folded('flood-new', T.startTest, () => startForm(unit)));
document.addEventListener('xuncha:outbox', refresh);
events.addEventListener('sent', refresh);
setInterval(refresh, 60000); // the pass time comes while the page is open
setInterval(poll, 30000);
document.addEventListener('visibilitychange', poll);
// A gate request's notice (js/notices.js) brings its card at once, not at the next 30 s poll.
document.addEventListener('xuncha:notice', (event) => { if (event.detail?.kind === 'gate_request') poll(); });
window.addEventListener('online', poll);
refresh();
poll();
