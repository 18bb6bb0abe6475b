// Checkpoint scans on the round page: the camera reads the sticker's QR code (the browser's
// BarcodeDetector where it has one, the vendored jsQR where not), or Web NFC reads its tag where the
// phone has it; a missing or damaged sticker is recorded with a reason instead. Everything works with
// no signal: a code is matched to its checkpoint by the SHA-256 the plan holds, and the scan (its
// time, what was read) is kept with the round and sent with its completion, where the server judges
// it again. No location is read.
import { newUuid } from './api.js';
import { format, h } from './dom.js';

const JSQR_URL = '/static/vendor/jsqr/jsQR.js';
const SCAN_EVERY_MS = 150;
const MAX_SCAN_WIDTH = 640; // frames are scaled down to this before jsQR reads them

export async function digestText(text) {
  if (!globalThis.crypto?.subtle) return null; // not a secure context: the server judges it alone
  const bytes = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// Which of the plan's checkpoints a scanned text is the code of (null: none of this round's).
// Where the phone cannot hash (not a secure context), the checkpoint open is taken: the server judges it.
export async function checkpointOf(plan, text, open = null) {
  const digest = await digestText(text);
  if (!digest) return open;
  return plan.checkpoints.find((c) => (c.codes ?? []).includes(digest))?.key ?? null;
}

async function nativeDetector() {
  if (!('BarcodeDetector' in globalThis)) return null;
  try {
    const formats = await globalThis.BarcodeDetector.getSupportedFormats();
    return formats.includes('qr_code') ? new globalThis.BarcodeDetector({ formats: ['qr_code'] }) : null;
  } catch {
    return null;
  }
}

async function jsqrReader() {
  if (!globalThis.jsQR) await import(JSQR_URL); // UMD: sets self.jsQR
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  return (video) => {
    const scale = Math.min(1, MAX_SCAN_WIDTH / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    return globalThis.jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' })?.data ?? null;
  };
}

// Opens the back camera in `box` until a code is read (its text) or the steward cancels (null).
export function readWithCamera(box, T) {
  return new Promise((resolve) => {
    let stream;
    let stopped = false;
    const status = h('p', { class: 'item-hint', 'aria-live': 'polite' }, T.scanAim);
    const video = h('video', { class: 'scan-video', muted: true, playsinline: true, autoplay: true });
    const finish = (text) => {
      if (stopped) return;
      stopped = true;
      stream?.getTracks().forEach((t) => t.stop());
      resolve(text);
    };
    box.replaceChildren(h('div', { class: 'scan-panel' }, video, status,
      h('button', { type: 'button', class: 'button secondary block scan-cancel', onclick: () => finish(null) }, T.cancel)));
    (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      } catch (error) {
        status.textContent = T.cameraRefused;
        status.className = 'field-error';
        return;
      }
      if (stopped) { stream.getTracks().forEach((t) => t.stop()); return; }
      video.srcObject = stream;
      await video.play().catch(() => {});
      const detector = await nativeDetector();
      const read = detector ? null : await jsqrReader();
      while (!stopped) {
        if (video.readyState >= 2 && video.videoWidth) {
          let text = null;
          try {
            text = detector ? (await detector.detect(video))[0]?.rawValue ?? null : read(video);
          } catch { /* a frame that cannot be read: the next one */ }
          if (text) { finish(text); return; }
        }
        await new Promise((r) => setTimeout(r, SCAN_EVERY_MS));
      }
    })();
  });
}

// Web NFC: the first text (or URL) record of a tag held to the phone; null when cancelled.
export function readWithNfc(box, T) {
  return new Promise((resolve) => {
    const abort = new AbortController();
    const finish = (text) => { abort.abort(); resolve(text); };
    box.replaceChildren(h('div', { class: 'scan-panel' }, h('p', { class: 'item-hint' }, T.nfcHold),
      h('button', { type: 'button', class: 'button secondary block', onclick: () => finish(null) }, T.cancel)));
    const reader = new globalThis.NDEFReader();
    reader.onreading = ({ message }) => {
      for (const record of message.records) {
        if (record.recordType === 'text' || record.recordType === 'url') {
          finish(new TextDecoder(record.encoding || 'utf-8').decode(record.data));
          return;
        }
      }
    };
    reader.scan({ signal: abort.signal }).catch(() => finish(null));
  });
}

const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

export const scanOf = (scans, key) => (scans ?? []).find((s) => s.checkpoint === key && s.method !== 'sticker_damaged');
export const damagedOf = (scans, key) => (scans ?? []).find((s) => s.checkpoint === key && s.method === 'sticker_damaged');

// The checkpoints a round still has to scan (or explain) where the estate requires scans.
export function unscanned(plan, scans) {
  if (!plan.scans_required) return [];
  return plan.checkpoints.filter((c) => !scanOf(scans, c.key) && !damagedOf(scans, c.key));
}

// The box under a checkpoint's name: its scan, or the buttons to scan it or report its sticker.
// `record(scan)` keeps a scan with the round and returns once it is saved; `goTo(key)` opens a checkpoint.
export function scanBox({ T, plan, checkpoint, scans, record, goTo, message }) {
  const box = h('div', { class: 'scan-box', 'data-checkpoint': checkpoint.key });
  const done = scanOf(scans, checkpoint.key);
  const damaged = damagedOf(scans, checkpoint.key);
  const state = done
    ? h('p', { class: 'scan-state scanned' }, `✓ ${format(T.scannedAt, { time: time(done.scanned_at) })}`)
    : damaged ? h('p', { class: 'scan-state' }, `${T.stickerDamaged}: ${damaged.reason}`)
      : h('p', { class: `scan-state${plan.scans_required ? ' refused' : ''}` }, plan.scans_required ? T.scanRequired : T.notScanned);
  const note = message ? h('p', { class: 'item-hint scan-message', role: 'status' }, message) : null;
  const afterRead = async (text, method) => {
    if (!text) { goTo(checkpoint.key); return; }
    const key = await checkpointOf(plan, text, checkpoint.key);
    const before = key && scanOf(scans, key);
    if (before) { goTo(key, format(T.alreadyScanned, { time: time(before.scanned_at) })); return; }
    await record({ uuid: newUuid(), method, code: text, checkpoint: key, scanned_at: new Date().toISOString() });
    goTo(key ?? checkpoint.key, key ? null : T.notThisRound);
  };
  const buttons = [];
  if (!done) {
    buttons.push(h('button', { type: 'button', class: 'button scan-camera', onclick: async () => afterRead(await readWithCamera(box, T), 'camera') }, T.scanCode));
    if ('NDEFReader' in globalThis) {
      buttons.push(h('button', { type: 'button', class: 'button secondary scan-nfc', onclick: async () => afterRead(await readWithNfc(box, T), 'nfc') }, T.scanNfc));
    }
    if (!damaged) buttons.push(damagedForm(T, checkpoint, record));
  }
  box.append(...[state, note, ...buttons].filter(Boolean));
  return box;
}

function damagedForm(T, checkpoint, record) {
  const reason = h('textarea', { class: 'sticker-reason', rows: 2, maxlength: 500, 'aria-label': T.stickerReason, placeholder: T.stickerReason });
  const error = h('p', { class: 'field-error', hidden: true }, T.stickerSayWhy);
  return h('details', { class: 'sticker-damaged' }, h('summary', {}, T.stickerDamaged),
    h('form', { onsubmit: async (event) => {
      event.preventDefault();
      error.hidden = reason.value.trim() !== '';
      if (!error.hidden) { reason.focus(); return; }
      await record({ uuid: newUuid(), method: 'sticker_damaged', checkpoint: checkpoint.key, reason: reason.value.trim(),
        scanned_at: new Date().toISOString() });
    } }, reason, error, h('button', { type: 'submit', class: 'button secondary' }, T.stickerSave)));
}

// What the completion carries: left out when nothing was scanned, so a completion reads as it did.
export function scansForCompletion(scans) {
  return (scans ?? []).map((s) => (s.method === 'sticker_damaged'
    ? { uuid: s.uuid, method: s.method, checkpoint: s.checkpoint, reason: s.reason, scanned_at: s.scanned_at }
    : { uuid: s.uuid, method: s.method, code: s.code, scanned_at: s.scanned_at }));
}
