// Today page: rounds start on the phone first (so they start with no signal too), and what is
// still on this phone is listed with where it stands.
import { newUuid } from './api.js';
import { h, label } from './dom.js';
import { db, enqueue, getMeta, putRound, roundsOfUser } from './store.js';
import { currentUser, events, roundStatus } from './sync.js';

const T = JSON.parse(document.getElementById('app-strings').textContent);
const user = currentUser();

async function startLocally(form) {
  const field = (name) => form.querySelector(`input[name="${name}"]`).value;
  const pack = await getMeta(`pack:${user}`);
  const key = [field('kind'), field('estate_id'), field('building_id'), field('unit_id')].join('/');
  const plan = pack?.plans?.[key];
  const checklist = plan && pack.checklists[plan.checklist];
  if (!plan || !checklist) return false;
  // Already walking this place on this phone: carry on with that round, never start a second.
  const walking = (await roundsOfUser(user)).find((r) => !r.completed && r.targetKey === key);
  if (walking) {
    location.href = `/rounds/walk?round=${walking.uuid}`;
    return true;
  }
  const uuid = field('uuid') || newUuid();
  const number = (name) => (field(name) === '' ? null : Number(field(name)));
  const startedAt = new Date().toISOString();
  await putRound({
    uuid, user, targetKey: key, index: 0, view: 'walk', completed: false, answers: {}, startedAt,
    plan: { round: { uuid, kind: field('kind'), status: 'in_progress' }, title: checklist.title, place: plan.place,
      items: checklist.items, checkpoints: plan.checkpoints },
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

const STATUS = { local: 'statusLocal', sending: 'statusSending', office: 'statusOffice', attention: 'statusAttention' };

async function showLocalRounds() {
  const rounds = (await roundsOfUser(user)).sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
  const cards = [];
  for (const round of rounds) {
    const status = await roundStatus(round.uuid);
    if (round.completed && status.status === 'office') {
      (await db()).delete('rounds', round.uuid); // in the office: the phone no longer needs it
      continue;
    }
    const answered = Object.values(round.answers).filter((a) => a.result).length;
    cards.push(h('li', { class: `card round-card local-round status-${status.status}`, 'data-local-round': round.uuid },
      h('div', { class: 'round-kind' }, label(round.plan.title)),
      h('div', { class: 'round-place' }, round.plan.place),
      h('div', { class: 'round-when' }, h('span', { class: `badge badge-${status.status}` }, T[STATUS[status.status]]),
        ` ${answered}`, status.message ? h('div', { class: 'field-error' }, status.message) : null),
      round.completed ? null : h('a', { class: 'button primary block card-action', href: `/rounds/walk?round=${round.uuid}` }, T.resume)));
  }
  let section = document.getElementById('on-this-phone');
  if (!cards.length) { section?.remove(); return; }
  if (!section) {
    section = h('section', { id: 'on-this-phone' }, h('h2', { class: 'section-title' }, T.onThisPhone), h('ul', { class: 'cards' }));
    document.querySelector('main h1').after(section);
  }
  section.querySelector('ul').replaceChildren(...cards);
  // A round started here and also listed by the server shows once, from the phone.
  for (const card of document.querySelectorAll('.round-card[data-round]')) {
    if (rounds.some((r) => r.uuid === card.dataset.round)) card.hidden = true;
  }
}

document.addEventListener('xuncha:outbox', showLocalRounds);
events.addEventListener('sent', showLocalRounds);
showLocalRounds();
