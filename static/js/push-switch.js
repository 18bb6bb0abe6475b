// The "turn on notifications" switch of the notice settings page. The browser asks the person's
// permission only when they tap it; the subscription goes to the server, which pushes through the
// service worker (service-worker/sw.js). Without Push support the switch stays hidden.
import { api } from './api.js';

const box = document.getElementById('push-switch');
const on = box?.querySelector('.push-on');
const off = box?.querySelector('.push-off');
const state = box?.querySelector('.push-state');
const T = JSON.parse(document.getElementById('push-strings')?.textContent ?? '{}');

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

async function registration() {
  // Stewards' pages register the worker already; the other roles' get it here, for the pushes.
  return (await navigator.serviceWorker.getRegistration('/')) ?? navigator.serviceWorker.register('/sw.js', { scope: '/' });
}

function say(text) { if (text) state.textContent = text; }

async function show() {
  const reg = await registration();
  const subscription = await reg.pushManager.getSubscription();
  const denied = Notification.permission === 'denied';
  on.hidden = Boolean(subscription) || denied;
  off.hidden = !subscription;
  if (denied) say(T.blocked);
  else if (subscription) say(T.onHere);
}

async function turnOn() {
  on.disabled = true;
  try {
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') { say(T.blocked); return; }
    const reg = await registration();
    await navigator.serviceWorker.ready;
    const subscription = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.key) });
    const result = await api('/api/v1/push-subscriptions', { method: 'POST', json: subscription.toJSON() });
    if (!result.ok) { await subscription.unsubscribe(); say(result.data?.message ?? T.failed); return; }
    say(T.onHere);
  } catch (error) {
    say(T.failed);
  } finally {
    on.disabled = false;
    await show();
  }
}

async function turnOff() {
  const reg = await registration();
  const subscription = await reg.pushManager.getSubscription();
  if (subscription) {
    await api('/api/v1/push-subscriptions', { method: 'DELETE', json: { endpoint: subscription.endpoint } });
    await subscription.unsubscribe();
  }
  say(T.offHere);
  await show();
}

if (box && on && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window) {
  on.addEventListener('click', turnOn);
  off.addEventListener('click', turnOff);
  show();
} else if (box && on) {
  say(T.unsupported);
}
