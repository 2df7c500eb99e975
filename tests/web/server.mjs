// Starts the real riskmap binary on 127.0.0.1:0 over a freshly generated
// demo city, and a headless Chromium (Debian's) driven by playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Demo tokens, as printed in the README. */
export const PLANNER = 'demo-planner-7f3a91c2';

/** The riskmap binary: $RISKMAP_BIN, else the debug build `cargo test` made. */
export function binary() {
  if (process.env.RISKMAP_BIN) return process.env.RISKMAP_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
  for (const profile of ['debug', 'release']) {
    const p = join(target, profile, 'riskmap');
    if (existsSync(p)) return p;
  }
  throw new Error('no riskmap binary: run `cargo build` first or set RISKMAP_BIN');
}

/**
 * Runs the riskmap binary with `args` in `cwd`; throws with its stderr if
 * it fails, else returns its stderr.
 */
export function run(cwd, args) {
  const r = spawnSync(binary(), args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`riskmap ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stderr;
}

/**
 * Generates the demo city (preset quanzhou, seed 42) in a new temporary
 * folder `dir`, as `dir/data/quanzhou` (`data`), beside the demo tokens.
 */
export function generateDemo() {
  const dir = mkdtempSync(join(tmpdir(), 'riskmap-web-'));
  mkdirSync(join(dir, 'data'), { recursive: true });
  copyFileSync(join(ROOT, 'data', 'demo-tokens.toml'), join(dir, 'data', 'demo-tokens.toml'));
  const data = join(dir, 'data', 'quanzhou');
  run(dir, ['generate', '--preset', 'quanzhou', '--seed', '42', '--out', data]);
  return { dir, data };
}

/**
 * Generates the demo city (preset quanzhou, seed 42) in a temporary folder
 * with the demo tokens file (and `config` as its riskmap.toml, if given),
 * serves it, and resolves to `{ base, stop() }` once the server logs its
 * address.
 */
export async function startServer({ config } = {}) {
  const bin = binary();
  const { dir, data } = generateDemo();
  // `config`: the text of a riskmap.toml in the server's working directory.
  if (config) writeFileSync(join(dir, 'riskmap.toml'), config);
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data', data], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', RUST_LOG: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    const seen = [];
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${seen.join('\n')}`)), 180_000);
    lines.on('line', (line) => {
      const m = line.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); } else seen.push(line);
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${seen.join('\n')}`)); });
  });
  lines.on('line', () => {}); // keep draining the log
  // The history opens in the background after the start: wait for it.
  for (let i = 0; i < 3000; i++) {
    const health = await fetch(`${base}/health`).then((r) => r.json()).catch(() => ({}));
    if (!health.history_opening) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with WebGL through SwiftShader. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // launch() gives every run a fresh, temporary user-data directory.
    args: [
      '--no-sandbox',
      '--enable-unsafe-swiftshader',
      '--use-angle=swiftshader',
      '--ignore-gpu-blocklist',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--no-first-run',
    ],
  });
}

/** GET JSON from the server (optionally with a token). */
export async function api(base, path, token) {
  const resp = await fetch(base + path, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  if (!resp.ok) throw new Error(`GET ${path}: ${resp.status}`);
  return resp.json();
}

/**
 * Share of the map canvas's pixels (every fifth) that differ from the
 * background colour and from the basemap's land (what riskmap draws over
 * the basemap), and a digest of them, read in `page`.
 */
export function canvasPixels(page) {
  return page.evaluate(() => {
    const map = window.map;
    const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
    const under = [[0xe8, 0xec, 0xf0]];
    const land = map.getLayer('basemap-land') && map.getLayoutProperty('basemap-land', 'visibility') !== 'none'
      ? map.getPaintProperty('basemap-land', 'fill-color') : null;
    if (typeof land === 'string' && /^#[0-9a-f]{6}$/i.test(land)) under.push(hex(land));
    const c = map.getCanvas();
    const t = document.createElement('canvas');
    t.width = c.width;
    t.height = c.height;
    const ctx = t.getContext('2d');
    ctx.drawImage(c, 0, 0);
    const d = ctx.getImageData(0, 0, t.width, t.height).data;
    let drawn = 0;
    let n = 0;
    let hash = 0;
    for (let i = 0; i < d.length; i += 4 * 5) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (under.every(([ur, ug, ub]) => Math.abs(r - ur) + Math.abs(g - ug) + Math.abs(b - ub) > 12)) drawn++;
      hash = (Math.imul(hash, 31) + r * 65536 + g * 256 + b) >>> 0;
      n++;
    }
    return { drawn: drawn / n, hash };
  });
}

/** The four risk levels and their colours (styles/riskmap.json). */
export const LEVEL_COLOURS = { major: '#d7191c', high: '#fd8d3c', medium: '#fecc5c', low: '#2c7bb6' };

/**
 * Share of the map canvas's pixels (every third) whose hue is that of each
 * risk colour (±8°, saturated enough not to be the grey background), keyed
 * by level. Translucent fills keep their hue over the near-grey background.
 */
export function levelColourShares(page) {
  return page.evaluate((colours) => {
    const hue = (r, g, b) => {
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      if (max === min) return { h: 0, s: 0 };
      const d = max - min;
      let h;
      if (max === r) h = ((g - b) / d) % 6;
      else if (max === g) h = (b - r) / d + 2;
      else h = (r - g) / d + 4;
      h = (h * 60 + 360) % 360;
      return { h, s: d / max };
    };
    const targets = Object.entries(colours).map(([level, hex]) => {
      const n = parseInt(hex.slice(1), 16);
      return [level, hue(n >> 16, (n >> 8) & 255, n & 255).h];
    });
    const c = window.map.getCanvas();
    const t = document.createElement('canvas');
    t.width = c.width;
    t.height = c.height;
    const ctx = t.getContext('2d');
    ctx.drawImage(c, 0, 0);
    const d = ctx.getImageData(0, 0, t.width, t.height).data;
    const counts = Object.fromEntries(targets.map(([l]) => [l, 0]));
    let n = 0;
    for (let i = 0; i < d.length; i += 4 * 3) {
      n++;
      const { h, s } = hue(d[i], d[i + 1], d[i + 2]);
      if (s < 0.25) continue;
      for (const [level, th] of targets) {
        const diff = Math.min(Math.abs(h - th), 360 - Math.abs(h - th));
        if (diff <= 8) { counts[level]++; break; }
      }
    }
    return Object.fromEntries(Object.entries(counts).map(([l, k]) => [l, k / n]));
  }, LEVEL_COLOURS);
}
