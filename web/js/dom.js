// Small DOM helpers: element lookup, escaping, messages in the page.

/** The element with id `id`. */
export const byId = (id) => document.getElementById(id);

/** Text made safe for innerHTML. */
export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

/** A number with a thousands separator (zh-CN). */
export const fmt = (n, digits = 0) =>
  Number(n ?? 0).toLocaleString('zh-CN', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const recent = new Map();

/**
 * Shows a message over the map (errors stay until closed; `info` fades).
 * The same text is not repeated while it is on screen.
 */
export function toast(text, kind = 'error') {
  if (recent.has(text)) return;
  const box = document.createElement('div');
  box.className = `toast ${kind}`;
  box.innerHTML = `<p>${esc(text)}</p><button type="button" aria-label="关闭">×</button>`;
  const close = () => { box.remove(); recent.delete(text); };
  box.querySelector('button').addEventListener('click', close);
  byId('toasts').append(box);
  recent.set(text, box);
  if (kind === 'info') setTimeout(close, 4000);
  else setTimeout(close, 12000);
}

/** Saves `blob` as a download named `name`. */
export function saveBlob(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Debounces `fn` by `ms`. */
export function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}
