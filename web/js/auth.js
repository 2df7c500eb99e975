// The signed-in token: kept in sessionStorage (this tab only), checked
// against the server before it is kept.
const KEY = 'riskmap.token';
const listeners = new Set();
let memory = null;

/** The current token, or null. */
export function getToken() {
  try {
    return sessionStorage.getItem(KEY) ?? memory;
  } catch {
    return memory;
  }
}

/** Calls `fn(token)` whenever the token changes. */
export function onTokenChange(fn) {
  listeners.add(fn);
}

/** Stores (or with null, removes) the token and tells the listeners. */
export function setToken(token) {
  memory = token || null;
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch { /* storage disabled: the token lives until reload */ }
  for (const fn of listeners) fn(token);
}
