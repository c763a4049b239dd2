// JSON requests to this site, with the session cookie (and the CSRF token for a POST).

const ACCEPT_JSON = { Accept: 'application/json' };

/** The CSRF token base.html puts in <meta name="csrf-token">, '' without one. */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

/**
 * GET `url` as JSON; a failed answer throws its `message` (or "HTTP <status>").
 * @param {string} url
 * @returns {Promise<object>}
 */
export async function getJson(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: ACCEPT_JSON });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { throw new Error(body.message || `HTTP ${response.status}`); }
  return body;
}

/**
 * POST `body` as JSON; the answer is never thrown, the page decides what a refusal means.
 * @param {string} url
 * @param {object} body
 * @param {string} csrf the page's CSRF token
 * @returns {Promise<{ok: boolean, status: number, body: object}>}
 */
export async function postJson(url, body, csrf = csrfToken()) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { ...ACCEPT_JSON, 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
    body: JSON.stringify(body)
  });
  const answer = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body: answer };
}
