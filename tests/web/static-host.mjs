// A tiny static file server, as a city's web host or object store would be:
// files of one folder under a path prefix on 127.0.0.1:0, with HTTP Range
// (one range: 206 + Content-Range, 416 when unsatisfiable), and a log of
// every request.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.pbf': 'application/x-protobuf',
  '.txt': 'text/plain; charset=utf-8',
};

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size`: [start, end] or null. */
export function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start;
  let end;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start <= end && start < size ? [start, end] : null;
}

/**
 * Serves `root` under `prefix` (e.g. `/city/map/`); resolves to
 * `{ base, log, close() }` where `log` holds `{ path, status, range }`.
 */
export function serveStatic(root, prefix) {
  const log = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://host');
    const entry = { path: url.pathname, status: 404, range: req.headers.range ?? null };
    log.push(entry);
    const send = (status, headers = {}) => {
      entry.status = status;
      res.writeHead(status, headers);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') { send(405); res.end(); return; }
    if (!url.pathname.startsWith(prefix)) { send(404); res.end(); return; }
    let rel = decodeURIComponent(url.pathname.slice(prefix.length));
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = normalize(join(root, rel));
    let st;
    try {
      st = statSync(file);
    } catch {
      st = null;
    }
    if (!file.startsWith(root + sep) || !st?.isFile()) { send(404); res.end(); return; }
    const headers = {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Accept-Ranges': 'bytes',
    };
    let start = 0;
    let end = st.size - 1;
    if (req.headers.range) {
      const r = parseRange(req.headers.range, st.size);
      if (!r) { send(416, { 'Content-Range': `bytes */${st.size}` }); res.end(); return; }
      [start, end] = r;
      send(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${st.size}`, 'Content-Length': end - start + 1 });
    } else {
      send(200, { ...headers, 'Content-Length': st.size });
    }
    if (req.method === 'HEAD' || st.size === 0) { res.end(); return; }
    createReadStream(file, { start, end }).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        base: `http://127.0.0.1:${port}${prefix}`,
        log,
        close: () => new Promise((done) => { server.close(done); server.closeAllConnections(); }),
      });
    });
  });
}
