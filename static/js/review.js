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
