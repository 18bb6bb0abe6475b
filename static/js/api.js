// Talking to the server: JSON with the CSRF token, answers normalised to {ok, status, data}.

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? '';
}

export async function api(path, { method = 'GET', json, form } = {}) {
  const headers = { Accept: 'application/json', 'X-CSRFToken': csrfToken() };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  } catch (error) {
    return { ok: false, status: 0, data: null, network: true };
  }
  const type = response.headers.get('Content-Type') ?? '';
  // An HTML answer (a captive portal, a login page) is never a success for the API.
  const data = type.includes('application/json') ? await response.json().catch(() => null) : null;
  return { ok: response.ok && data !== null, status: response.status, data };
}

export function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
