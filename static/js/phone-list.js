// The today page's "On this phone" group: rounds walked here and answers given here (repair checks,
// material requests, re-checks) leave their group for it, with where they stand; the counts on top
// follow.
import { h } from './dom.js';

export function phoneSection(title) {
  let section = document.getElementById('on-this-phone');
  if (!section) {
    section = h('section', { id: 'on-this-phone', 'aria-labelledby': 'on-this-phone-h' },
      h('h2', { id: 'on-this-phone-h', class: 'section-title' }, title),
      h('ul', { class: 'cards phone-rounds' }), h('ul', { class: 'cards phone-answers' }));
    // Below the material requests from the gate, which come first.
    (document.getElementById('materials') ?? document.querySelector('.today-groups') ?? document.querySelector('main h1')).after(section);
    const nav = document.querySelector('.today-groups');
    nav?.prepend(h('a', { href: '#on-this-phone', 'data-count-link': 'on-this-phone' }, title, ' ',
      h('span', { class: 'count', 'data-count': 'on-this-phone' })));
  }
  return section;
}

export function moveToPhone(card, title) {
  const list = phoneSection(title).querySelector('.phone-answers');
  if (card.parentElement !== list) list.append(card);
  countGroups();
}

// Each group's count on top: its cards still shown; a group with none left is hidden.
export function countGroups() {
  for (const link of document.querySelectorAll('[data-count-link]')) {
    const section = document.getElementById(link.dataset.countLink);
    const count = section ? section.querySelectorAll('li.card:not([hidden])').length : 0;
    link.querySelector('.count').textContent = count;
    link.hidden = count === 0;
    if (section) section.hidden = count === 0;
  }
}
