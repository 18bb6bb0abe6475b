// A defect the resident of a unit is responsible for (住戶違章), marked on the round page: its kind
// and the room, sent with the round's completion; the office turns it into a violation of that unit
// (app/complaints/violations.py), or says on the finding why it could not.
import { h } from './dom.js';

export const RESIDENT_KINDS = ['clutter', 'illegal_structure', 'facade', 'group_renting', 'other'];

// `answer.resident_violation` is {kind, room} while marked; `on` saves (save, render, typed).
export function residentMark(answer, T, choiceButtons, on) {
  const mark = answer.resident_violation;
  const toggle = h('button', {
    type: 'button', class: 'chip resident-toggle', 'aria-pressed': String(Boolean(mark)),
    onclick: async () => {
      if (answer.resident_violation) delete answer.resident_violation;
      else answer.resident_violation = { kind: null, room: '' };
      await on.save();
      on.render();
    },
  }, T.residentViolation);
  if (!mark) return h('div', { class: 'resident-mark' }, toggle);
  return h('div', { class: 'resident-mark' }, toggle,
    choiceButtons(RESIDENT_KINDS.map((code) => ({ code, label: { zh_Hant: T[`kind_${code}`] } })), mark.kind,
      async (code) => { mark.kind = code; await on.save(); on.render(); }, T.residentViolation),
    h('input', {
      type: 'text', class: 'resident-room', placeholder: T.roomResponsible, 'aria-label': T.roomResponsible,
      maxlength: 32, autocomplete: 'off', value: mark.room,
      oninput: async (e) => { mark.room = e.target.value; await on.save(); on.typed(); },
    }));
}
