// Live updates: the page reads `GET /api/events` (Server-Sent Events) with
// fetch() and a streamed body, so the token travels in the Authorization
// header (EventSource cannot send one, and a token in a URL would end up
// in logs and history). On `scores` it re-requests only the tiles of the
// written area — with `cache: 'no-cache'`, so the browser revalidates them
// with If-None-Match and tiles whose bytes did not change come back 304 —
// and tells the page which units changed; `hidden_danger` and `resync`
// go to the listeners as they are.
import { authHeaders, urlOf } from './api.js';
import { onTokenChange } from './auth.js';

const listeners = new Map();
/** Tiles ("z/x/y") to revalidate the next time they are requested. */
const staleTiles = new Set();
let controller = null;
let retry = 0;

/** Calls `fn(data)` for every event `type` (`scores`, `hidden_danger`, `resync`, `hello`). */
export function onLive(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
}

function emit(type, data) {
  for (const fn of listeners.get(type) ?? []) {
    try {
      fn(data);
    } catch (e) {
      console.warn(`live ${type}:`, e);
    }
  }
}

/**
 * Extra fetch options for a tile request: `{cache: 'no-cache'}` once for
 * a tile a write touched (so a copy in the HTTP cache is revalidated).
 */
export function tileRequestOptions(url) {
  const m = url.match(/\/tiles\/(\d+\/\d+\/\d+)\.mvt/);
  if (m && staleTiles.delete(m[1])) return { cache: 'no-cache' };
  return {};
}

const lonToX = (lon, n) => Math.floor(((lon + 180) / 360) * n);
function latToY(lat, n) {
  const r = (Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
}

/** The tiles of zoom `z` over bbox [w, s, e, n]. */
function tilesOver([w, s, e, n], z) {
  const size = 2 ** z;
  const clamp = (v) => Math.max(0, Math.min(size - 1, v));
  const x0 = clamp(lonToX(w, size));
  const x1 = clamp(lonToX(e, size));
  const y0 = clamp(latToY(n, size));
  const y1 = clamp(latToY(s, size));
  const out = [];
  for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.push({ z, x, y });
  return out;
}

/**
 * Re-requests the tiles of `sourceId` that cover `bbox` (all zoom levels
 * of the source; MapLibre reloads those it holds in view, the others are
 * revalidated when next requested). Without a bbox: every tile.
 */
export function refreshTiles(map, sourceId, bbox) {
  const source = map.getSource(sourceId);
  if (!source) return;
  if (!bbox || bbox.length !== 4 || !bbox.every(Number.isFinite)) {
    reloadAllTiles(map, sourceId);
    return;
  }
  const ids = [];
  const view = map.getBounds();
  const viewBox = [view.getWest(), view.getSouth(), view.getEast(), view.getNorth()];
  const inter = [Math.max(bbox[0], viewBox[0]), Math.max(bbox[1], viewBox[1]),
    Math.min(bbox[2], viewBox[2]), Math.min(bbox[3], viewBox[3])];
  const lo = source.minzoom ?? 0;
  const hi = Math.min(source.maxzoom ?? 14, 22);
  // Tiles never asked for again would pile up: past a bound, forget them
  // (their cached copies expire on their own within minutes).
  if (staleTiles.size > 20_000) staleTiles.clear();
  for (let z = lo; z <= hi; z++) {
    let tiles = tilesOver(bbox, z);
    // A large area at a deep zoom: only what is in view matters now.
    if (tiles.length > 256) tiles = inter[0] <= inter[2] && inter[1] <= inter[3] ? tilesOver(inter, z) : [];
    if (tiles.length > 1024) continue;
    for (const t of tiles) {
      staleTiles.add(`${t.z}/${t.x}/${t.y}`);
      ids.push(t);
    }
  }
  if (ids.length) map.refreshTiles(sourceId, ids);
}

/**
 * Whether MapLibre holds `sourceId`'s tiles back for a pending layer
 * change (null when that cannot be told). While it does, a reload it is
 * asked for reuses the tiles' old data instead of fetching them again.
 */
function tilesHeldBack(map, sourceId) {
  const paused = map.style?.tileManagers?.[sourceId]?._paused;
  return typeof paused === 'boolean' ? paused : null;
}

/** Fetches every tile of `sourceId` again, in view or cached. */
export function reloadAllTiles(map, sourceId) {
  if (tilesHeldBack(map, sourceId) === false) {
    map.refreshTiles(sourceId);
    return;
  }
  // After the next frame's style update the source is no longer held back.
  map.once('render', () => map.refreshTiles(sourceId));
  map.triggerRepaint();
}

/**
 * Applies `change` to source `sourceId` (a new TileJSON URL or tile URL
 * template) and makes sure its tiles are fetched again. MapLibre drops the
 * reload of a changed source that comes while a layer change of the
 * source is pending (and then reuses the tiles' old data); the tiles are
 * then reloaded after the next frame.
 */
export function reloadSource(map, sourceId, change) {
  const source = map.getSource(sourceId);
  if (!source) return;
  const onData = (e) => {
    if (e.sourceId !== sourceId || e.sourceDataType !== 'content') return;
    map.off('sourcedata', onData);
    if (tilesHeldBack(map, sourceId) !== false) reloadAllTiles(map, sourceId);
  };
  map.on('sourcedata', onData);
  change(source);
}

/** Reads one SSE stream until it ends; calls `emit` per event. */
async function read(resp, signal) {
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let type = 'message';
  let data = [];
  const dispatch = () => {
    if (data.length) {
      let parsed = null;
      try { parsed = JSON.parse(data.join('\n')); } catch { parsed = data.join('\n'); }
      emit(type, parsed);
    }
    type = 'message';
    data = [];
  };
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') dispatch();
      else if (line.startsWith(':')) continue;
      else {
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') type = val;
        else if (field === 'data') data.push(val);
      }
    }
  }
}

function connect() {
  controller?.abort();
  const mine = new AbortController();
  controller = mine;
  const run = async () => {
    let connected = false;
    try {
      const resp = await fetch(urlOf('api/events'), {
        headers: authHeaders({ Accept: 'text/event-stream' }),
        credentials: 'omit',
        cache: 'no-store',
        signal: mine.signal,
      });
      // 503: this server takes no writes (no journal) or is full; 401: the
      // token went away (the page signs out through its other requests).
      // Either way: try again later.
      if (resp.status === 503) {
        let why = '';
        try { why = (await resp.json()).description ?? ''; } catch { /* not JSON */ }
        // A read-only server (no journal) has no events: stop asking.
        if (/takes no writes/.test(why)) return;
      }
      if (!resp.ok || !resp.body) throw new Error(`events: ${resp.status}`);
      connected = true;
      if (retry > 0) emit('resync', { reconnected: true });
      retry = 0;
      document.body.dataset.live = 'true';
      await read(resp, mine.signal);
    } catch (e) {
      if (mine.signal.aborted) return;
    }
    if (mine.signal.aborted) return;
    document.body.dataset.live = 'false';
    // Reconnect, backing off up to 30 s.
    retry = connected ? 1 : retry + 1;
    setTimeout(() => { if (controller === mine) connect(); }, Math.min(30_000, 500 * 2 ** Math.min(retry, 6)));
  };
  run();
}

/** Starts listening (again after every sign-in and sign-out). */
export function startLive() {
  connect();
  onTokenChange(() => { retry = 0; connect(); });
  window.addEventListener('pagehide', () => controller?.abort());
}
