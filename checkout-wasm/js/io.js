// The widget's I/O with the browser (checkout-wasm `api.rs`, `events.rs`): requests to the worker,
// sessionStorage, DOM events. Plain browser calls, smaller as JS than as wasm bindings.

/** `fetch` to the worker with the session's client secret and the browser's hints. */
export function request(url, method, authorization, hints, body) {
  const headers = { Authorization: authorization, 'X-Edgepay-Hints': hints };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(url, { method, mode: 'cors', headers, body });
}

/**
 * Waits for a `fetch` and reads its JSON: `{ok, body}`, `body` undefined when the answer is not
 * JSON. Rejects when no answer came (offline, refused, CORS).
 */
export async function read(response) {
  const answer = await response;
  let body;
  try {
    body = await answer.json();
  } catch {
    // not JSON: the widget says it did not understand
  }
  return { ok: answer.ok, body };
}

/** `sessionStorage[key]`, or null (also where storage is not allowed). */
export function load(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Sets `sessionStorage[key]`, or removes it when `value` is undefined. */
export function store(key, value) {
  try {
    if (value === undefined) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // storage not allowed: a return from the provider is then not recognised
  }
}

/**
 * Dispatches `name` with `detail` on `host`, in a microtask: a listener that destroys or
 * refreshes the widget must not run while the widget is in the middle of rendering.
 */
export function emit(host, name, detail) {
  queueMicrotask(() => host.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true })));
}

/**
 * Copies `text`: `navigator.clipboard.writeText` where the browser has it (secure contexts), else
 * the older way that still works in many in-app browsers, `input` selected and
 * `execCommand('copy')`. Resolves with whether it worked.
 */
export async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    try {
      input?.select();
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}
