// Today page: rounds start on the phone first (so they start with no signal too), and what is
// still on this phone is listed with where it stands. Repaired public tickets are checked here,
// with or without signal: the answer goes into the outbox like a round.
import { newUuid } from './api.js';
import { format, h, label } from './dom.js';
import { db, deleteMeta, enqueue, enqueueWithMeta, getMeta, metaFrom, putRound, roundsOfUser } from './store.js';
import { currentUser, events, roundStatus } from './sync.js';
import { countGroups, moveToPhone, phoneSection } from './phone-list.js';

const T = JSON.parse(document.getElementById('app-strings').textContent);
const user = currentUser();

async function startLocally(form) {
  const field = (name) => form.querySelector(`input[name="${name}"]`).value;
  const pack = await getMeta(`pack:${user}`);
  const key = [field('kind'), field('estate_id'), field('building_id'), field('unit_id')].join('/');
  const plan = pack?.plans?.[key];
  const checklist = plan && pack.checklists[plan.checklist];
  if (!plan || !checklist) return false;
  const uuid = field('uuid') || newUuid();
  // This card walked on this phone already (done, sent or not), or this place being walked: open
  // that round, never start it again (a second start would wipe its answers).
  const mine = await roundsOfUser(user);
  const walking = mine.find((r) => r.uuid === uuid) ?? mine.find((r) => !r.completed && r.targetKey === key);
  if (walking) {
    location.href = walking.delivered ? `/rounds/${walking.uuid}` : `/rounds/walk?round=${walking.uuid}`;
    return true;
  }
  const number = (name) => (field(name) === '' ? null : Number(field(name)));
  const startedAt = new Date().toISOString();
  await putRound({
    uuid, user, targetKey: key, index: 0, view: 'walk', completed: false, answers: {}, startedAt,
    plan: { round: { uuid, kind: field('kind'), status: 'in_progress' }, title: checklist.title, place: plan.place,
      items: checklist.items, checkpoints: plan.checkpoints, scans_required: Boolean(plan.scans_required) },
  });
  const body = { uuid, kind: field('kind'), estate_id: number('estate_id'), building_id: number('building_id'),
    unit_id: number('unit_id'), started_at: startedAt, checklist_version: checklist.version };
  await enqueue({ user, type: 'start', roundUuid: uuid, url: '/api/v1/rounds', method: 'POST', body,
    bytes: JSON.stringify(body).length });
  location.href = `/rounds/walk?round=${uuid}`;
  return true;
}

for (const form of document.querySelectorAll('.round-card form')) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    // No offline plan for it yet (the pack is fetched when online): the server starts it.
    if (!(await startLocally(form))) form.submit();
  });
}

const STATUS = { local: 'statusLocal', sending: 'statusSending', office: 'statusOffice', attention: 'statusAttention', aside: 'statusAside' };
const KEEP_DELIVERED_MS = 3 * 86400000;

// The cards this page lists for a round: by the round's UUID (the server's round in progress, or
// the one a card starts: the same on every copy of the page), or, while it is walked, its place.
function cardsOf(round) {
  return [...document.querySelectorAll('.round-card[data-round], .round-card[data-start]')].filter((card) =>
    card.dataset.round === round.uuid || card.dataset.start === round.uuid
    || (!round.completed && card.dataset.target === round.targetKey && !card.dataset.round));
}

// What this phone holds merged into the server's list: a card walked here moves to "On this
// phone" (with where it stands) and leaves the due lists, sent or not.
async function showLocalRounds() {
  const rounds = (await roundsOfUser(user)).sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
  const cards = [];
  const walked = new Set();
  for (const round of rounds) {
    const status = await roundStatus(round.uuid);
    const listed = cardsOf(round);
    if (round.completed && status.status === 'office') {
      // In the office. Kept (a few days) as long as a copy of this page may still offer its card.
      if (!round.delivered) { round.delivered = Date.now(); await putRound(round); }
      if (!listed.length) {
        if (Date.now() - round.delivered > KEEP_DELIVERED_MS) (await db()).delete('rounds', round.uuid);
        continue;
      }
    }
    for (const card of listed) walked.add(card);
    const answered = Object.values(round.answers).filter((a) => a.result).length;
    const shown = round.delivered ? 'office' : status.status;
    cards.push(h('li', { class: `card round-card local-round status-${shown}`, 'data-local-round': round.uuid },
      h('div', { class: 'round-title' }, h('div', { class: 'round-kind' }, label(round.plan.title)), ' ',
        h('div', { class: 'round-place' }, round.plan.place)),
      h('div', { class: 'round-when' }, h('span', { class: `badge badge-${shown}` }, T[STATUS[shown]]),
        round.delivered ? '' : ` ${format(T.answeredCount, { count: answered })}`, status.message ? h('div', { class: 'field-error' }, status.message) : null),
      round.delivered
        ? h('a', { class: 'button block card-action', href: `/rounds/${round.uuid}` }, T.viewRound)
        : h('a', { class: `button ${round.completed ? '' : 'primary '}block card-action`, href: `/rounds/walk?round=${round.uuid}` },
          status.status === 'attention' ? T.openIt : round.completed ? T.viewRound : T.resume)));
  }
  for (const card of document.querySelectorAll('.round-card[data-round], .round-card[data-start]')) card.hidden = walked.has(card);
  if (cards.length || document.getElementById('on-this-phone')) {
    phoneSection(T.onThisPhone).querySelector('.phone-rounds').replaceChildren(...cards);
  }
  countGroups();
}

// Checks on site. An answer is kept per ticket and repair (a ticket repaired again is a new check).
const CHECK = `check:${user}:`;
const checkKey = (card) => `${CHECK}${card.dataset.ticket}@${card.dataset.repaired}`;

async function answerCheck(form, passed, note, label) {
  const card = form.closest('.check-card');
  const uuid = newUuid();
  const body = { uuid, ticket_id: Number(card.dataset.ticket), passed, note, recorded_at: new Date().toISOString() };
  // roundUuid is the outbox's unit of delivery (held back on "needs attention", retried as one).
  await enqueueWithMeta({ user, type: 'verification', roundUuid: uuid, url: '/api/v1/verifications', method: 'POST',
    body, bytes: JSON.stringify(body).length }, checkKey(card), { uuid, label, note });
  document.dispatchEvent(new CustomEvent('xuncha:enqueued'));
  await showChecks();
}

for (const form of document.querySelectorAll('.check-form')) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const passed = event.submitter?.value === '1';
    const note = form.elements.note.value.trim();
    const error = form.querySelector('.field-error');
    error.hidden = passed || note !== '';
    if (!error.hidden) { form.elements.note.focus(); return; }
    for (const button of form.querySelectorAll('button')) button.disabled = true;
    await answerCheck(form, passed, note, event.submitter.textContent.trim());
  });
}

async function showChecks() {
  const cards = new Map([...document.querySelectorAll('.check-card')].map((card) => [checkKey(card), card]));
  for (const { key, value: answer } of await metaFrom(CHECK)) {
    const status = await roundStatus(answer.uuid);
    const card = cards.get(key);
    if (!card) {
      // No longer listed (this page is the last one the server sent) and in the office: done.
      if (status.status === 'office') await deleteMeta(key);
      continue;
    }
    card.querySelector('.check-form').hidden = true;
    card.querySelector('.check-open')?.removeAttribute('open');
    card.className = `card check-card status-${status.status}`;
    moveToPhone(card, T.onThisPhone); // answered here: "on this phone", with where it stands
    const out = card.querySelector('.check-answer');
    out.hidden = false;
    out.replaceChildren(h('span', { class: `badge badge-${status.status}` }, T[STATUS[status.status]]),
      ` ${answer.label}${answer.note ? ` · ${answer.note}` : ''}`,
      ...(status.message ? [h('div', { class: 'field-error' }, status.message)] : []));
  }
}

const refresh = () => { showLocalRounds(); showChecks(); };
document.addEventListener('xuncha:outbox', refresh);
events.addEventListener('sent', refresh);
refresh();
