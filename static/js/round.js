// The round page: walks a round from its plan (JSON), keeping every answer on the phone as it is given.
import { api, newUuid } from './api.js';
import { format, h, label } from './dom.js';
import { compressPhoto, sha256Hex } from './photo.js';
import { residentMark } from './resident-mark.js';
import { deletePhoto, enqueue, getPhoto, getRound, outboxOf, putPhoto, putRound, removeEntry, updateEntry } from './store.js';
import { scanBox, scansForCompletion, unscanned } from './scan.js';
import { currentUser, events, retryAttention, roundStatus, setAside, syncNow } from './sync.js';

const T = {
  ...JSON.parse(document.getElementById('app-strings').textContent),
  ...JSON.parse(document.getElementById('walk-strings').textContent),
};
const root = document.getElementById('walk');
const roundUuid = new URLSearchParams(location.search).get('round');
const objectUrls = new Map();

let state; // { uuid, plan, answers, index, view }

const key = (checkpoint, code) => `${checkpoint}|${code}`;
const itemsByCode = () => Object.fromEntries(state.plan.items.map((i) => [i.code, i]));

function requiredPairs() {
  const items = itemsByCode();
  return state.plan.checkpoints.flatMap((c) => c.items.filter((code) => items[code].required).map((code) => [c, code]));
}

function isAnswered(answer, item) {
  if (!answer?.result) return false;
  if (item.type === 'reading' && answer.result === 'fine') return answer.reading_value !== null && answer.reading_value !== '';
  return true;
}

function problems(answer, item) {
  const list = [];
  if (answer?.result === 'defect') {
    if (!answer.reason_code && !answer.reason_text?.trim()) list.push(T.chooseReason);
    if (item.photo_required && !(answer.photo_uuids?.length)) list.push(T.photoRequired);
    const mark = answer.resident_violation;
    if (mark && (!mark.kind || !mark.room?.trim())) list.push(T.markKindAndRoom);
  }
  if (item.type === 'reading' && answer?.result === 'fine' && answer.reading_value !== null
      && !/^\d+(\.\d{1,2})?$/.test(String(answer.reading_value))) list.push(T.notANumber);
  return list;
}

function progress() {
  const items = itemsByCode();
  const pairs = requiredPairs();
  const done = pairs.filter(([c, code]) => {
    const a = state.answers[key(c.key, code)];
    return isAnswered(a, items[code]) && problems(a, items[code]).length === 0;
  }).length;
  return { done, total: pairs.length };
}

// Storage full (or refused): say so and what to do; what was kept before stays kept.
function storageProblem(error) {
  const full = error?.name === 'QuotaExceededError' || /quota|space/i.test(String(error?.message ?? ''));
  let alert = document.getElementById('storage-alert');
  if (!alert) {
    alert = h('p', { id: 'storage-alert', class: 'flash flash-error', role: 'alert' });
    root.before(alert);
  }
  alert.textContent = full ? T.storageFull : `${T.storageFull} (${error?.message ?? error})`;
}

async function save() {
  try {
    await putRound(state);
    document.getElementById('storage-alert')?.remove();
  } catch (error) {
    storageProblem(error);
    throw error;
  }
}

function answerFor(checkpoint, item) {
  const k = key(checkpoint.key, item.code);
  state.answers[k] ??= {
    uuid: newUuid(), checkpoint: checkpoint.key, item_code: item.code, result: null, reason_code: null,
    reason_text: '', action_code: null, note: '', reading_value: null, recorded_at: null, photo_uuids: [],
  };
  return state.answers[k];
}

async function setResult(checkpoint, item, result) {
  const answer = answerFor(checkpoint, item);
  answer.result = result;
  answer.recorded_at = new Date().toISOString();
  await save();
  render();
}

async function allFine(checkpoint) {
  const items = itemsByCode();
  for (const code of checkpoint.items) {
    const item = items[code];
    if (item.type !== 'check') continue;
    const answer = answerFor(checkpoint, item);
    if (!answer.result) {
      answer.result = 'fine';
      answer.recorded_at = new Date().toISOString();
    }
  }
  await save();
  render();
}

// Meter warnings, worked out as the server does (app/round_plan.py: meter_flags).
function meterFlags(meter, value) {
  if (!meter || meter.previous_value === null || value === null || value === '' || Number.isNaN(Number(value))) return [];
  const used = Number(value) - Number(meter.previous_value);
  const flags = [];
  if (used < 0) flags.push('lower_than_last');
  if (meter.median_consumption !== null && Number(meter.median_consumption) > 0 && used > 3 * Number(meter.median_consumption)) {
    flags.push('consumption_spike');
  }
  if (meter.unit_vacant && used > 0) flags.push('vacant_consumption');
  return flags;
}

async function photoUrl(uuid) {
  if (objectUrls.has(uuid)) return objectUrls.get(uuid);
  const photo = await getPhoto(uuid);
  if (!photo) return null;
  const url = URL.createObjectURL(photo.blob);
  objectUrls.set(uuid, url);
  return url;
}

function thumbnail(uuid, onRemove) {
  const img = h('img', { alt: '', width: 72, height: 72 });
  photoUrl(uuid).then((url) => { if (url) img.src = url; });
  return h('span', { class: 'thumb local' }, img,
    onRemove && h('button', { type: 'button', class: 'thumb-remove', 'aria-label': T.removePhoto, onclick: onRemove }, '×'));
}

const AS_TAKEN_MAX = 20 * 1024 * 1024; // what the server takes (PHOTO_MAX_BYTES)

async function addPhotos(checkpoint, item, files, status) {
  const answer = answerFor(checkpoint, item);
  const problems = [];
  for (const file of files) {
    let photo;
    try {
      photo = await compressPhoto(file);
    } catch (error) {
      // Not shrunk: a JPEG the server takes is kept as taken; anything else is asked again.
      if (file.type === 'image/jpeg' && file.size <= AS_TAKEN_MAX) {
        photo = { blob: file, sha256: await sha256Hex(file), width: null, height: null };
      } else {
        problems.push(T.photoTooBig);
        continue;
      }
    }
    const uuid = newUuid();
    try {
      await putPhoto({ uuid, roundUuid: state.uuid, findingUuid: answer.uuid, blob: photo.blob, sha256: photo.sha256,
        width: photo.width, height: photo.height, size: photo.blob.size, status: 'local', takenAt: new Date().toISOString() });
    } catch (error) {
      storageProblem(error);
      problems.push(T.storageFull);
      break;
    }
    answer.photo_uuids.push(uuid);
  }
  await save();
  render();
  // After the render: the message stays under the item that asked for it.
  const box = root.querySelector(`li.item[data-item="${item.code}"] .photo-status`);
  if (box && problems.length) box.textContent = [...new Set(problems)].join(' ');
}

// A removed photo stays on the phone until the round is completed: "undo" brings it back.
async function removePhoto(checkpoint, item, uuid) {
  const answer = answerFor(checkpoint, item);
  answer.photo_uuids = answer.photo_uuids.filter((u) => u !== uuid);
  state.removedPhotos = { ...(state.removedPhotos ?? {}), [uuid]: key(checkpoint.key, item.code) };
  await save();
  render();
}

async function undoRemove(uuid) {
  const answerKey = state.removedPhotos?.[uuid];
  const answer = answerKey && state.answers[answerKey];
  if (answer && !answer.photo_uuids.includes(uuid)) answer.photo_uuids.push(uuid);
  delete state.removedPhotos[uuid];
  await save();
  render();
}

function choiceButtons(choices, selected, onPick, name) {
  return h('div', { class: 'chips', role: 'group', 'aria-label': name },
    choices.map((choice) => h('button', {
      type: 'button', class: 'chip', 'aria-pressed': String(selected === choice.code),
      onclick: () => onPick(selected === choice.code ? null : choice.code),
    }, label(choice.label))));
}

function defectDetails(checkpoint, item, answer) {
  const status = h('p', { class: 'field-error photo-status', role: 'alert' });
  const here = key(checkpoint.key, item.code);
  const removed = Object.entries(state.removedPhotos ?? {}).filter(([, k]) => k === here).map(([uuid]) => uuid);
  const fileInput = h('input', {
    type: 'file', accept: 'image/*', capture: 'environment', multiple: true, class: 'visually-hidden',
    onchange: (e) => addPhotos(checkpoint, item, [...e.target.files], status),
  });
  return h('div', { class: 'defect-details' },
    h('div', { class: 'sub-label' }, T.reason),
    choiceButtons(item.reasons, answer.reason_code, async (code) => { answer.reason_code = code; await save(); render(); }, T.reason),
    h('input', {
      type: 'text', class: 'reason-text', placeholder: T.otherReason, 'aria-label': T.otherReason, maxlength: 500,
      value: answer.reason_text, oninput: async (e) => { answer.reason_text = e.target.value; await save(); updateProgress(); },
    }),
    item.actions.length ? h('div', { class: 'sub-label' }, T.onTheSpot) : null,
    item.actions.length ? choiceButtons(item.actions, answer.action_code, async (code) => { answer.action_code = code; await save(); render(); }, T.onTheSpot) : null,
    h('textarea', {
      class: 'note', placeholder: T.note, 'aria-label': T.note, maxlength: 1000, rows: 2,
      oninput: async (e) => { answer.note = e.target.value; await save(); },
    }, answer.note),
    residentMark(answer, T, choiceButtons, { save, render, typed: updateProgress }),
    h('div', { class: 'thumbs' },
      answer.photo_uuids.map((uuid) => thumbnail(uuid, () => removePhoto(checkpoint, item, uuid))),
      h('label', { class: 'button photo-button' }, T.addPhoto, fileInput)),
    removed.length ? h('p', { class: 'undo-bar' }, T.removedPhoto, ' ',
      h('button', { type: 'button', class: 'button undo-remove', onclick: () => undoRemove(removed.at(-1)) }, T.undo)) : null,
    item.photo_required && !answer.photo_uuids.length ? h('p', { class: 'hint-required' }, T.photoRequired) : null,
    status);
}

function readingInput(checkpoint, item, answer) {
  const meter = checkpoint.meter;
  const flagsBox = h('div', { class: 'flags', 'aria-live': 'polite' });
  const showFlags = () => {
    flagsBox.replaceChildren(...meterFlags(meter, answer.reading_value).map((f) => h('p', { class: 'flag' }, `⚠ ${T[`flag_${f}`]}`)));
  };
  const input = h('input', {
    type: 'text', inputmode: 'decimal', class: 'reading-input', 'aria-label': `${label(item.label)} · ${T.reading}`,
    value: answer.reading_value ?? '', autocomplete: 'off',
    oninput: async (e) => {
      const raw = e.target.value.trim().replace(',', '.');
      answer.reading_value = raw === '' ? null : raw;
      answer.result = raw === '' ? (answer.result === 'not_applicable' ? answer.result : null) : 'fine';
      answer.recorded_at = new Date().toISOString();
      input.setAttribute('aria-invalid', String(problems(answer, item).length > 0));
      await save();
      showFlags();
      updateProgress();
    },
  });
  showFlags();
  return h('div', { class: 'reading-box' },
    h('div', { class: 'previous' }, meter?.previous_value != null
      ? `${T.previousReading}: ${meter.previous_value} (${meter.previous_date})` : T.noPreviousReading),
    input, flagsBox);
}

function itemCard(checkpoint, item) {
  const answer = state.answers[key(checkpoint.key, item.code)] ?? {};
  const results = item.type === 'reading'
    ? [['not_applicable', T.notApplicable]]
    : [['fine', T.fine], ['defect', T.defect], ['not_applicable', T.notApplicable]];
  const issues = answer.result ? problems(answer, item) : [];
  return h('li', { class: `item result-${answer.result ?? 'none'}`, 'data-item': item.code },
    h('div', { class: 'item-label' }, label(item.label), item.required ? null : h('span', { class: 'optional' }, ` ${T.optional}`)),
    item.hint && Object.keys(item.hint).length ? h('div', { class: 'item-hint' }, label(item.hint)) : null,
    item.type === 'reading' ? readingInput(checkpoint, item, answerFor(checkpoint, item)) : null,
    h('div', { class: 'results', role: 'group' },
      results.map(([value, text]) => h('button', {
        type: 'button', class: `result result-${value}`, 'aria-pressed': String(answer.result === value),
        onclick: () => setResult(checkpoint, item, answer.result === value && item.type === 'reading' ? null : value),
      }, text))),
    answer.result === 'defect' ? defectDetails(checkpoint, item, answerFor(checkpoint, item)) : null,
    issues.length ? h('p', { class: 'field-error' }, issues.join(' ')) : null);
}

function checkpointStatus(checkpoint) {
  const items = itemsByCode();
  const answers = checkpoint.items.map((code) => state.answers[key(checkpoint.key, code)]);
  const defects = answers.filter((a) => a?.result === 'defect').length;
  // Done: every required item answered; a place with optional items only, once one is answered.
  const required = checkpoint.items.some((code) => items[code].required);
  const done = required
    ? checkpoint.items.every((code, i) => !items[code].required || isAnswered(answers[i], items[code]))
    : checkpoint.items.some((code, i) => isAnswered(answers[i], items[code]));
  return { done, defects };
}

function updateProgress() {
  const bar = root.querySelector('progress.round-progress');
  const text = root.querySelector('.progress-text');
  if (!bar) return;
  const { done, total } = progress();
  bar.value = done;
  bar.max = Math.max(total, 1);
  text.textContent = format(T.progress, { done, total });
}

function header() {
  const { done, total } = progress();
  return h('header', { class: 'walk-header' },
    h('h1', {}, label(state.plan.title)),
    h('div', { class: 'walk-place' }, state.plan.place),
    h('progress', { class: 'round-progress', value: done, max: Math.max(total, 1) }),
    h('div', { class: 'progress-text' }, format(T.progress, { done, total })));
}

function goTo(index) {
  state.index = Math.max(0, Math.min(index, state.plan.checkpoints.length - 1));
  state.view = 'walk';
  state.scanMessage = null;
  save();
  render();
  window.scrollTo(0, 0);
}

// A checkpoint's code read (or its sticker reported): kept with the round at once, like an answer.
async function recordScan(scan) {
  state.scans = [...(state.scans ?? []), scan];
  await save();
  render();
}

function openCheckpoint(key, message) {
  const index = state.plan.checkpoints.findIndex((c) => c.key === key);
  if (index >= 0 && index !== state.index) goTo(index);
  state.scanMessage = message ?? null;
  render();
}

function walkView() {
  const checkpoints = state.plan.checkpoints;
  const checkpoint = checkpoints[state.index];
  const items = itemsByCode();
  const hasChecks = checkpoint.items.some((code) => items[code].type === 'check');
  const picker = h('select', { class: 'checkpoint-picker', 'aria-label': T.places, onchange: (e) => goTo(Number(e.target.value)) },
    checkpoints.map((c, i) => {
      const s = checkpointStatus(c);
      return h('option', { value: i, selected: i === state.index }, `${i + 1}/${checkpoints.length} ${c.label}${s.done ? ' ✓' : ''}${s.defects ? ` ⚠${s.defects}` : ''}`);
    }));
  const last = state.index === checkpoints.length - 1;
  return [
    header(),
    picker,
    h('section', { class: 'checkpoint panel' },
      h('h2', {}, checkpoint.label),
      scanBox({ T, plan: state.plan, checkpoint, scans: state.scans, record: recordScan, goTo: openCheckpoint,
        message: state.scanMessage }),
      hasChecks ? h('button', { type: 'button', class: 'button all-fine block', onclick: () => allFine(checkpoint) }, `✓ ${T.allFineHere}`) : null,
      h('ul', { class: 'items' }, checkpoint.items.map((code) => itemCard(checkpoint, items[code])))),
    h('nav', { class: 'walk-nav' },
      h('button', { type: 'button', class: 'button', disabled: state.index === 0, onclick: () => goTo(state.index - 1) }, `‹ ${T.previous}`),
      last
        ? h('button', { type: 'button', class: 'button primary', onclick: () => { state.view = 'summary'; save(); render(); window.scrollTo(0, 0); } }, `${T.summary} ›`)
        : h('button', { type: 'button', class: 'button primary', onclick: () => goTo(state.index + 1) }, `${T.next} ›`)),
    h('button', { type: 'button', class: 'button secondary block to-summary', onclick: () => { state.view = 'summary'; render(); } }, T.summary),
  ];
}

// A decoration check may end without a check (nobody on site, entry refused, work finished).
const OUTCOMES = ['checked', 'nobody', 'refused', 'finished'];
const isDecoration = () => state.plan.round?.kind === 'decoration';
const outcome = () => (isDecoration() && state.outcome) || 'checked';

function outcomeChoice() {
  return h('div', { class: 'visit-outcome' },
    h('h3', {}, T.visitOutcome),
    h('div', { class: 'chips', role: 'group', 'aria-label': T.visitOutcome },
      OUTCOMES.map((value) => h('button', {
        type: 'button', class: `chip outcome-${value}`, 'aria-pressed': String(outcome() === value),
        onclick: async () => { state.outcome = value; await save(); render(); },
      }, T[`outcome_${value}`]))),
    outcome() === 'checked' ? null : h('p', { class: 'item-hint' }, T.outcomeHint));
}

function summaryView(message) {
  const items = itemsByCode();
  const answers = Object.values(state.answers).filter((a) => a.result);
  const count = (r) => answers.filter((a) => a.result === r).length;
  const checked = outcome() === 'checked';
  const missing = requiredPairs().filter(([c, code]) => {
    const a = state.answers[key(c.key, code)];
    // Not checked: what was not answered does not hold the visit back, what was answered must be right.
    if (!checked) return Boolean(a?.result) && problems(a, items[code]).length > 0;
    return !isAnswered(a, items[code]) || problems(a, items[code]).length;
  });
  const defects = answers.filter((a) => a.result === 'defect');
  const byKey = Object.fromEntries(state.plan.checkpoints.map((c, i) => [c.key, [c, i]]));
  const notScanned = unscanned(state.plan, state.scans);
  return [
    header(),
    h('section', { class: 'panel summary' },
      h('h2', {}, T.summary),
      isDecoration() ? outcomeChoice() : null,
      h('ul', { class: 'counts' },
        h('li', { class: 'count-defect' }, h('strong', {}, count('defect')), ` ${T.defects}`),
        h('li', { class: 'count-fine' }, h('strong', {}, count('fine')), ` ${T.fineCount}`),
        h('li', { class: 'count-na' }, h('strong', {}, count('not_applicable')), ` ${T.notApplicableCount}`)),
      h('p', { class: 'count-total' }, format(T.answersInAll, {
        count: answers.length,
        required: answers.filter((a) => items[a.item_code]?.required).length,
        optional: answers.filter((a) => !items[a.item_code]?.required).length })),
      missing.length ? h('div', { class: 'missing' },
        h('h3', {}, `${T.unanswered} (${missing.length})`),
        h('ul', { class: 'list' }, missing.slice(0, 30).map(([c, code]) => h('li', {},
          h('button', { type: 'button', class: 'link', onclick: () => goTo(byKey[c.key][1]) }, `${c.label} · ${label(items[code].label)}`))))) : null,
      defects.length ? h('div', { class: 'defect-list' },
        h('h3', {}, T.defects),
        h('ul', { class: 'list' }, defects.map((a) => {
          const item = items[a.item_code];
          const reason = item.reasons.find((r) => r.code === a.reason_code);
          return h('li', { class: 'defect-summary' },
            h('div', {}, h('strong', {}, `${byKey[a.checkpoint][0].label} · ${label(item.label)}`),
              h('div', {}, [reason ? label(reason.label) : '', a.reason_text].filter(Boolean).join(' · ')),
              a.resident_violation?.kind ? h('div', { class: 'resident-summary' },
                `${T.residentViolation}: ${T[`kind_${a.resident_violation.kind}`]} · ${a.resident_violation.room}`) : null),
            h('div', { class: 'thumbs' }, a.photo_uuids.map((uuid) => thumbnail(uuid))));
        }))) : null,
      notScanned.length ? h('div', { class: 'missing not-scanned' },
        h('h3', {}, `${T.notScannedYet} (${notScanned.length})`),
        h('ul', { class: 'list' }, notScanned.slice(0, 30).map((c) => h('li', {},
          h('button', { type: 'button', class: 'link', onclick: () => goTo(byKey[c.key][1]) }, c.label))))) : null,
      (state.scans ?? []).length ? h('p', { class: 'count-total scan-count' }, format(T.scansInAll, { count: state.scans.length })) : null,
      message ? h('p', { class: 'flash flash-error', role: 'alert' }, message) : null,
      h('button', { type: 'button', class: 'button primary block complete', disabled: missing.length > 0 || notScanned.length > 0, onclick: complete }, T.complete),
      h('button', { type: 'button', class: 'button secondary block', onclick: () => { state.view = 'walk'; render(); } }, T.backToWalk)),
  ];
}



async function complete(event) {
  if (state.completed) return; // a second tap: the round is already on its way
  if (event?.target) event.target.disabled = true;
  // The completion is written once and kept: a resend carries the very same content.
  const findings = Object.values(state.answers).filter((a) => a.result).map(({ resident_violation: mark, ...a }) => ({
    ...a, reading_value: a.reading_value === null || a.reading_value === '' ? null : String(a.reading_value),
    // Sent only when marked on a defect, so a round reads as it always did.
    ...(a.result === 'defect' && mark?.kind && mark.room?.trim() ? { resident_violation: { kind: mark.kind, room: mark.room.trim() } } : {}),
  }));
  state.completion = { completed_at: new Date().toISOString(), findings };
  // Left out when checked, so a completion reads as it always did.
  if (outcome() !== 'checked') state.completion.visit_outcome = outcome();
  if ((state.scans ?? []).length) state.completion.scans = scansForCompletion(state.scans); // left out when none
  state.completed = true;
  await save();
  for (const uuid of Object.keys(state.removedPhotos ?? {})) await deletePhoto(uuid); // removed for good now
  state.removedPhotos = {};
  await queueCompletion();
  state.view = 'done';
  await save();
  render();
  window.scrollTo(0, 0); // from the bottom of a long summary: show the result and its delivery from the top
}

// Into the outbox: the completion, then each photo. Queued twice after a crash, the server
// answers the same both times (same UUIDs, same content).
async function queueCompletion() {
  if (state.queued) return;
  const user = currentUser();
  const body = state.completion;
  await enqueue({ user, type: 'complete', roundUuid: state.uuid, url: `/api/v1/rounds/${state.uuid}/completion`,
    method: 'POST', body, bytes: JSON.stringify(body).length });
  for (const answer of body.findings) {
    for (const photoUuid of answer.photo_uuids) {
      const photo = await getPhoto(photoUuid);
      if (photo) {
        await enqueue({ user, type: 'photo', roundUuid: state.uuid, photoUuid, url: `/api/v1/photos/${photoUuid}`,
          method: 'PUT', bytes: photo.size });
      }
    }
  }
  state.queued = true;
  await save();
  document.dispatchEvent(new CustomEvent('xuncha:enqueued'));
}

const STATUS_TEXT = { local: 'statusLocal', sending: 'statusSending', office: 'statusOffice', attention: 'statusAttention', aside: 'statusAside' };

// A conflict (the office holds this round with other answers): both versions, item by item.
const FIELDS = ['result', 'reason_code', 'reason_text', 'action_code', 'note', 'reading_value'];
const plain = (value) => (value === null || value === undefined ? '' : String(value).trim());
const sameValue = (field, a, b) => (field === 'reading_value' && plain(a) !== '' && plain(b) !== ''
  ? Number(a) === Number(b) : plain(a) === plain(b));
const sameAnswer = (a, b) => FIELDS.every((f) => sameValue(f, a[f], b[f]));

function describe(answer, item) {
  const result = { fine: T.fine, defect: T.defect, not_applicable: T.notApplicable }[answer.result] ?? '';
  const reason = item?.reasons.find((r) => r.code === answer.reason_code);
  const action = item?.actions.find((r) => r.code === answer.action_code);
  return [result, answer.reading_value != null && answer.reading_value !== '' ? `${T.reading} ${answer.reading_value}` : '',
    reason ? label(reason.label) : '', plain(answer.reason_text), action ? `✔ ${label(action.label)}` : '', plain(answer.note)]
    .filter(Boolean).join(' · ');
}

async function sendDifferences(corrections, onlyHere) {
  const user = currentUser();
  const keptHere = new Set(onlyHere.flatMap((a) => a.photo_uuids));
  for (const entry of await outboxOf(user)) {
    if (entry.roundUuid !== state.uuid) continue;
    if (entry.type === 'start' || entry.type === 'complete') {
      if (onlyHere.length && entry.type === 'complete') {
        // Kept whole for the export file: what the office's round has no place for.
        await updateEntry({ ...entry, roundUuid: `${state.uuid}/kept`, status: 'aside', reason: T.onlyOnPhone, error: null });
      } else {
        await removeEntry(entry.id); // the corrections carry what differs
      }
    } else if (entry.type === 'photo' && keptHere.has(entry.photoUuid)) {
      await updateEntry({ ...entry, roundUuid: `${state.uuid}/kept`, status: 'aside', reason: T.onlyOnPhone, error: null });
    }
  }
  for (const [answer, office] of corrections) {
    const body = { uuid: newUuid(), result: answer.result, why: T.correctionWhy, reason_code: answer.reason_code ?? null,
      reason_text: answer.reason_text ?? '', action_code: answer.action_code ?? null, note: answer.note ?? '',
      reading_value: answer.reading_value === '' ? null : answer.reading_value ?? null };
    await enqueue({ user, type: 'amendment', roundUuid: state.uuid, url: `/api/v1/findings/${office.uuid}/amendments`,
      method: 'POST', body, echo: { field: 'finding_uuid', value: office.uuid }, bytes: JSON.stringify(body).length });
  }
  // Photos of an answer the office holds now show the office's finding.
  for (const [answer, office] of corrections) {
    for (const uuid of answer.photo_uuids ?? []) {
      const photo = await getPhoto(uuid);
      if (photo) await putPhoto({ ...photo, findingUuid: office.uuid });
    }
  }
  state.resolved = 'corrections';
  await save();
  document.dispatchEvent(new CustomEvent('xuncha:enqueued'));
  await showDeliveryStatus();
}

async function conflictPanel() {
  const panel = h('div', { class: 'conflict', 'aria-live': 'polite' }, h('h3', {}, T.conflictTitle), h('p', { class: 'item-hint' }, T.conflictHelp));
  const result = await api(`/api/v1/rounds/${state.uuid}`);
  if (!result.ok) {
    panel.append(h('p', { class: 'field-error' }, result.network ? T.compareOffline : result.data?.message ?? T.loadFailed));
    return panel;
  }
  const items = itemsByCode();
  const labels = Object.fromEntries(state.plan.checkpoints.map((c) => [c.key, c.label]));
  const office = new Map(result.data.findings.map((f) => [key(f.checkpoint, f.item_code), f]));
  const corrections = [];
  const onlyHere = [];
  const rows = [];
  for (const answer of state.completion?.findings ?? []) {
    const theirs = office.get(key(answer.checkpoint, answer.item_code));
    if (theirs && sameAnswer(answer, theirs)) continue;
    (theirs ? corrections : onlyHere).push(theirs ? [answer, theirs] : answer);
    const item = items[answer.item_code];
    rows.push(h('li', { class: 'conflict-row' },
      h('strong', {}, `${labels[answer.checkpoint] ?? ''} · ${label(item?.label)}`),
      h('div', { class: 'version-phone' }, h('span', { class: 'sub-label' }, `${T.thisPhone}: `), describe(answer, item)),
      h('div', { class: 'version-office' }, h('span', { class: 'sub-label' }, `${T.office}: `), theirs ? describe(theirs, item) : T.notInOffice)));
  }
  if (!rows.length) {
    panel.append(h('p', {}, T.noDifferences));
  } else {
    panel.append(h('ul', { class: 'list conflict-rows' }, rows));
    if (onlyHere.length) panel.append(h('p', { class: 'item-hint' }, T.onlyOnPhone));
  }
  const send = h('button', { type: 'button', class: 'button primary block send-differences', onclick: async () => {
    send.disabled = true;
    await sendDifferences(corrections, onlyHere);
  } }, T.sendDifferences);
  const why = h('textarea', { class: 'aside-reason', rows: 2, maxlength: 500, 'aria-label': T.setAsideReason, placeholder: T.setAsideReason });
  const whyError = h('p', { class: 'field-error', hidden: true }, T.sayWhyAside);
  const aside = h('form', { class: 'aside-form', onsubmit: async (event) => {
    event.preventDefault();
    whyError.hidden = why.value.trim() !== '';
    if (!whyError.hidden) { why.focus(); return; }
    await setAside(state.uuid, why.value.trim());
    await showDeliveryStatus();
  } }, why, whyError, h('button', { type: 'submit', class: 'button block set-aside' }, T.setAside));
  panel.append(send, aside);
  return panel;
}

async function showDeliveryStatus() {
  const box = root.querySelector('.delivery');
  if (!box) return;
  const { status, message, conflict } = await roundStatus(state.uuid);
  if (box.dataset.shown === `${status}|${message}` && status === 'attention') return; // keep what is being typed
  box.dataset.shown = `${status}|${message}`;
  box.className = `delivery status-${status}`;
  box.replaceChildren(...[h('span', { class: `badge badge-${status}` }, T[STATUS_TEXT[status]]),
    message && !conflict && h('p', { class: status === 'aside' ? 'item-hint' : 'field-error' }, message),
    status === 'attention' && !conflict && h('button', { type: 'button', class: 'button', onclick: () => retryAttention(state.uuid) }, T.tryAgain),
    status === 'office' && h('a', { class: 'button primary block', href: `/rounds/${state.uuid}` }, T.viewSummary),
  ].filter(Boolean));
  if (status === 'attention' && conflict) box.append(await conflictPanel());
}
for (const type of ['sent', 'attention', 'sending', 'changed']) events.addEventListener(type, showDeliveryStatus);

function doneView() {
  setTimeout(showDeliveryStatus);
  return [header(), h('section', { class: 'panel done' },
    h('h2', {}, `✓ ${T.completed}`),
    h('div', { class: 'delivery' }))];
}

function render() {
  const view = state.view === 'summary' ? summaryView() : state.view === 'done' ? doneView() : walkView();
  root.replaceChildren(...view);
}

async function start() {
  state = await getRound(roundUuid);
  if (state && state.user !== currentUser()) state = null; // another user's round on a shared phone
  if (!state) {
    const result = await api(`/api/v1/rounds/${roundUuid}`);
    if (!result.ok) {
      root.replaceChildren(h('p', { class: 'flash flash-error', role: 'alert' }, result.data?.message ?? T.loadFailed));
      return;
    }
    if (result.data.round.status === 'completed') { location.replace(`/rounds/${roundUuid}`); return; } // walked already
    state = { uuid: roundUuid, user: currentUser(), plan: result.data, answers: {}, index: 0, view: 'walk',
      completed: false, startedAt: result.data.round.started_at };
    await save();
  }
  if (state.completed && !state.queued) await queueCompletion(); // the page closed half-way
  render();
  syncNow();
}

start();
