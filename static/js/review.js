// The desk's review page: a full-size photo viewer for the thumbnails, and a filter form whose
// estate choice refreshes the buildings and stewards offered. Without JS (or <dialog>) a
// thumbnail opens its photo in a new tab and the form works as a plain GET form.

const viewer = document.getElementById('photo-viewer');
const list = document.querySelector('.review-list');

if (viewer && list && typeof viewer.showModal === 'function') {
  const img = viewer.querySelector('img');
  const count = viewer.querySelector('.viewer-count');
  const open = viewer.querySelector('.viewer-open');
  const prev = viewer.querySelector('.viewer-prev');
  const next = viewer.querySelector('.viewer-next');
  let photos = [];
  let index = 0;

  const show = (i) => {
    index = (i + photos.length) % photos.length;
    const link = photos[index];
    img.src = link.href;
    img.alt = link.querySelector('img')?.alt ?? '';
    open.href = link.href;
    count.textContent = photos.length > 1 ? `${index + 1} / ${photos.length}` : '';
    prev.hidden = next.hidden = photos.length < 2;
  };

  list.addEventListener('click', (event) => {
    const link = event.target.closest('a.thumb');
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    photos = [...link.closest('.thumbs').querySelectorAll('a.thumb')];
    show(photos.indexOf(link));
    viewer.showModal();
  });
  prev.addEventListener('click', () => show(index - 1));
  next.addEventListener('click', () => show(index + 1));
  viewer.querySelector('.viewer-close').addEventListener('click', () => viewer.close());
  viewer.addEventListener('click', (event) => { if (event.target === viewer) viewer.close(); });
  viewer.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowLeft' && photos.length > 1) show(index - 1);
    if (event.key === 'ArrowRight' && photos.length > 1) show(index + 1);
  });
  viewer.addEventListener('close', () => { img.removeAttribute('src'); });
}

// A building or steward of another estate would match nothing: clear them and show the new estate.
const estate = document.querySelector('.review-filters select[data-resets]');
estate?.addEventListener('change', () => {
  for (const name of estate.dataset.resets.split(' ')) {
    const field = estate.form.elements.namedItem(name);
    if (field) field.value = '';
  }
  estate.form.requestSubmit();
});

// Marking reviewed in place: the card says "reviewed" with an undo button, the counts follow, and
// the page stays where it is (no reload, no jump to the top). Without JS the forms post as usual
// and come back to the next card, with an undo button at the top.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
const unreviewedCount = document.querySelector('.count-unreviewed strong');
const bulkStatus = document.querySelector('.bulk-status');
const selectedCount = document.querySelector('.selected-count');

const asJson = async (url, body) => {
  const response = await fetch(url, {
    method: 'POST', body, credentials: 'same-origin',
    headers: { Accept: 'application/json', 'X-CSRFToken': csrf },
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message || list?.dataset.tFailed || String(response.status));
  return answer;
};

const addToCount = (n) => {
  if (!unreviewedCount || !/^\d+$/.test(unreviewedCount.textContent.trim())) return;
  unreviewedCount.textContent = String(Math.max(0, Number(unreviewedCount.textContent) + n));
};

// "Mark the selected" shows once something is selected: the bar at the bottom stays one line.
const selectedForm = document.getElementById('bulk-selected');
const showSelected = () => {
  if (!selectedCount) return;
  const n = document.querySelectorAll('input[form="bulk-selected"]:checked').length;
  selectedCount.textContent = n ? `(${n})` : '';
  selectedForm.hidden = n === 0;
};
showSelected();

const undoButton = (undo, onDone) => {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button secondary undo';
  button.textContent = list.dataset.tUndo;
  button.addEventListener('click', async () => {
    const body = new FormData();
    body.append('csrf_token', csrf);
    body.append('at', undo.at);
    for (const uuid of undo.uuids) body.append('uuid', uuid);
    button.disabled = true;
    try {
      await asJson(list.dataset.undoUrl, body);
    } catch (error) {
      button.disabled = false;
      if (bulkStatus) bulkStatus.textContent = error.message;
      return;
    }
    for (const uuid of undo.uuids) setReviewed(document.getElementById(`f-${uuid}`), false);
    addToCount(undo.uuids.length);
    onDone();
  });
  return button;
};

function setReviewed(card, reviewed, undo = null) {
  if (!card) return;
  card.dataset.reviewed = reviewed ? 'yes' : 'no';
  const actions = card.querySelector('.review-actions');
  actions.querySelector('.just-reviewed')?.remove();
  for (const el of actions.querySelectorAll('.mark-form, .select-finding')) el.hidden = reviewed;
  const box = actions.querySelector('input[form="bulk-selected"]');
  if (box) box.checked = false;
  if (reviewed) {
    const chip = document.createElement('span');
    chip.className = 'just-reviewed';
    const badge = document.createElement('span');
    badge.className = 'badge badge-done';
    badge.textContent = `✓ ${list.dataset.tReviewed}`;
    chip.append(badge);
    if (undo) chip.append(' ', undoButton(undo, () => actions.querySelector('.mark-form button')?.focus()));
    actions.append(chip);
  }
}

if (list) {
  document.addEventListener('change', (event) => {
    if (event.target.matches('input[form="bulk-selected"]')) showSelected();
  });
  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!form.matches('.mark-form, .bulk-form')) return;
    event.preventDefault();
    const body = new FormData(form);
    const button = form.querySelector('button[type=submit]');
    if (form.id === 'bulk-selected' && !body.getAll('uuid').length) return;
    button.disabled = true;
    let answer;
    try {
      answer = await asJson(form.action, body);
    } catch (error) {
      button.disabled = false;
      if (bulkStatus) bulkStatus.textContent = error.message;
      return;
    } finally {
      button.disabled = false;
    }
    const single = form.matches('.mark-form');
    for (const uuid of answer.undo.uuids) {
      setReviewed(document.getElementById(`f-${uuid}`), true, single ? answer.undo : null);
    }
    addToCount(-answer.marked);
    showSelected();
    if (single) {
      form.closest('.review-actions').querySelector('.undo')?.focus({ preventScroll: true });
    } else if (bulkStatus) {
      bulkStatus.textContent = `${answer.message} `;
      bulkStatus.append(undoButton(answer.undo, () => { bulkStatus.textContent = ''; }));
    }
  });
}
