// Today page: show how far each round in progress got on this phone.
import { getRound } from './store.js';

for (const card of document.querySelectorAll('.round-card[data-round]')) {
  getRound(card.dataset.round).then((round) => {
    if (!round) return;
    const required = round.plan.checkpoints.length;
    const visited = new Set(Object.values(round.answers).filter((a) => a.result).map((a) => a.checkpoint)).size;
    card.querySelector('.local-progress').textContent = `${visited}/${required}`;
  });
}
