// End-to-end tests of the web map in headless Chromium against the real
// server on a generated demo city. Run: node --test tests/web/
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import {
  LEVEL_COLOURS, PLANNER, ROOT, api, canvasPixels, launchBrowser, levelColourShares, startServer,
} from './server.mjs';

/** Demo grid manager token (scope 350502001001), as in the README. */
const GRID_MANAGER = 'demo-grid-5c8e17a4';
const GRID_SCOPE = '350502001001';

const TIMEOUT = 120_000;

describe('style and assets', () => {
  it('styles/riskmap.json is a valid MapLibre style', () => {
    const style = JSON.parse(readFileSync(join(ROOT, 'styles', 'riskmap.json'), 'utf8'));
    const errors = validateStyleMin(style);
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.equal(style.version, 8);
    const layers = new Set(style.layers.map((l) => l['source-layer']).filter(Boolean));
    for (const l of ['counties', 'towns', 'villages', 'cells', 'collapse_zones', 'hazard_sources', 'enterprises']) {
      assert.ok(layers.has(l), `no style layer draws ${l}`);
    }
  });

  it('web/vendor holds the maplibre-gl of package-lock.json', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    const version = lock.packages['node_modules/maplibre-gl'].version;
    assert.match(version, /^5\./);
    for (const [vendored, pkg] of [
      ['maplibre-gl.js', 'dist/maplibre-gl.js'],
      ['maplibre-gl.css', 'dist/maplibre-gl.css'],
      ['LICENSE.txt', 'LICENSE.txt'],
    ]) {
      const a = readFileSync(join(ROOT, 'web', 'vendor', vendored));
      const b = readFileSync(join(ROOT, 'node_modules', 'maplibre-gl', pkg));
      assert.ok(a.equals(b), `web/vendor/${vendored} differs from maplibre-gl ${version}: run npm run vendor`);
    }
  });
});

describe('web map in Chromium', { timeout: 15 * 60_000 }, () => {
  let server;
  let browser;
  let context;
  let page;
  const requests = [];
  const blocked = [];
  const consoleErrors = [];

  /** Installs an idle listener; returns a function that waits for it. */
  async function armIdle(p = page) {
    await p.evaluate(() => {
      window.__idle = new Promise((resolve) => window.map.once('idle', resolve));
    });
    return async () => {
      await p.evaluate(() => { window.map.triggerRepaint(); return window.__idle; });
      await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    };
  }

  /** Moves the map (in the page) and waits until it is idle. */
  async function moveTo(fn, arg, p = page) {
    const idle = await armIdle(p);
    await p.evaluate(fn, arg);
    await idle();
  }

  /** Share of canvas pixels that differ from the background, and a digest. */
  function pixels(p = page) {
    return canvasPixels(p);
  }

  /**
   * A pixel inside unit `code` (tile layer `layer`) where no point symbol
   * or collapse zone would take the click.
   */
  function pixelInside(code, layer) {
    return page.evaluate(({ code, layer }) => {
      const map = window.map;
      const canvas = map.getCanvas();
      const w = canvas.clientWidth;
      const h = canvas.clientHeight;
      const candidates = [];
      for (let y = 10; y < h - 10; y += 6) {
        for (let x = 10; x < w - 10; x += 6) {
          const hit = map.queryRenderedFeatures([x, y], { layers: [`${layer}-fill`] })[0];
          if (hit?.properties.code !== code) continue;
          const others = map.queryRenderedFeatures([[x - 8, y - 8], [x + 8, y + 8]], {
            layers: ['enterprises-point', 'enterprises-cluster', 'hazard-sources-symbol', 'collapse-zones-fill']
              .filter((id) => map.getLayer(id)),
          });
          if (others.length === 0) candidates.push({ x, y, d: (x - w / 2) ** 2 + (y - h / 2) ** 2 });
        }
      }
      candidates.sort((a, b) => a.d - b.d);
      return candidates[0] ?? null;
    }, { code, layer });
  }

  async function clickMap(pt) {
    const box = await page.locator('#map canvas').boundingBox();
    await page.mouse.click(box.x + pt.x, box.y + pt.y);
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true, locale: 'zh-CN' });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.continue();
      blocked.push(url.href);
      return route.abort();
    });
    context.on('request', (r) => requests.push(r.url()));
    page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  it('serves the page and its assets with types and caching', async () => {
    const page0 = await fetch(`${server.base}/`);
    assert.equal(page0.status, 200);
    assert.match(page0.headers.get('content-type'), /^text\/html/);
    const etag = page0.headers.get('etag');
    assert.ok(etag);
    assert.equal((await fetch(`${server.base}/`, { headers: { 'If-None-Match': etag } })).status, 304);
    const js = await fetch(`${server.base}/web/vendor/maplibre-gl.js`);
    assert.match(js.headers.get('content-type'), /^text\/javascript/);
    assert.match(js.headers.get('cache-control'), /max-age/);
    const style = await fetch(`${server.base}/styles/riskmap.json`);
    assert.equal(style.headers.get('content-type'), 'application/json');
    const glyphs = await fetch(`${server.base}/fonts/${encodeURIComponent('Noto Sans CJK SC Bold,Arial Unicode MS Regular')}/0-255.pbf`);
    assert.equal(glyphs.status, 200);
    assert.equal(glyphs.headers.get('content-type'), 'application/x-protobuf');
    assert.equal((await fetch(`${server.base}/fonts/Nope/0-255.pbf`)).status, 404);
    assert.equal((await fetch(`${server.base}/web/nope.js`)).status, 404);
  });

  it('renders the map at 1366×768 with the title and no overflow', async () => {
    assert.equal(await page.title(), '城市安全风险电子地图');
    assert.equal(await page.locator('h1').textContent(), '城市安全风险电子地图');
    const { drawn } = await pixels();
    assert.ok(drawn > 0.15, `only ${(drawn * 100).toFixed(1)}% of the map is drawn`);
    const layout = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      canvas: window.map.getCanvas().getBoundingClientRect().toJSON(),
      sidebar: document.getElementById('sidebar').getBoundingClientRect().toJSON(),
    }));
    assert.ok(layout.scroll <= 1366, `page scrolls sideways (${layout.scroll}px)`);
    assert.ok(layout.canvas.width > 900 && layout.canvas.height > 600, JSON.stringify(layout.canvas));
    assert.ok(layout.sidebar.width > 200 && layout.sidebar.left >= 0);
    assert.equal(await page.locator('#loading').getAttribute('class'), 'loading done');
  });

  it('legend shows 重大/较大/一般/低 with the counts of /api/stats', async () => {
    const stats = await api(server.base, '/api/stats');
    const zoom = await page.evaluate(() => window.map.getZoom());
    assert.ok(zoom < 9, `the whole city starts at zoom ${zoom}`);
    await page.waitForFunction(() => document.querySelector('[data-count="major"]').textContent !== '–');
    const legend = await page.locator('#legend-list').innerText();
    for (const word of ['重大', '较大', '一般', '低']) assert.ok(legend.includes(word), legend);
    for (const level of ['major', 'high', 'medium', 'low']) {
      const shown = await page.locator(`[data-count="${level}"]`).textContent();
      assert.equal(Number(shown.replace(/,/g, '')), stats.levels.county[level], level);
    }
  });

  it('toggling a layer changes the drawn pixels', async () => {
    const before = await pixels();
    const off = await armIdle();
    await page.locator('[data-group="choropleth"]').uncheck();
    await off();
    const without = await pixels();
    assert.notEqual(without.hash, before.hash);
    assert.ok(without.drawn < before.drawn * 0.5, `${before.drawn} → ${without.drawn}`);
    const on = await armIdle();
    await page.locator('[data-group="choropleth"]').check();
    await on();
    const again = await pixels();
    assert.ok(Math.abs(again.drawn - before.drawn) < 0.02);
  });

  let top;
  it('clicking the highest-risk cell shows its score', async () => {
    top = (await api(server.base, '/api/ranking?level=cell&limit=1')).items[0];
    const found = (await api(server.base, `/api/search?q=${top.code}&limit=5`)).items.find((i) => i.id === top.code);
    top.bbox = found.bbox;
    await moveTo((bbox) => window.map.fitBounds(bbox, { padding: 200, maxZoom: 15, duration: 0 }), top.bbox);
    const pt = await pixelInside(top.code, 'cells');
    assert.ok(pt, 'no free pixel inside the cell');
    await clickMap(pt);
    await page.locator('#detail').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#detail h3').textContent(), top.name);
    assert.equal(await page.locator('#detail .score[data-score]').getAttribute('data-score'), top.risk_score.toFixed(1));
    const text = await page.locator('#detail').innerText();
    assert.ok(text.includes('重大') || text.includes('较大'), text);
    assert.ok(text.includes('登录后'), 'anonymous panel invites sign-in');
    top.pixel = pt;
  });

  it('signing in with the planner token shows enterprises and the breakdown', async () => {
    const privateLayers = { layers: ['enterprises-point', 'enterprises-cluster', 'hazard-sources-symbol'] };
    const view = () => page.evaluate((opts) => window.map.queryRenderedFeatures(opts).map((f) => f.layer.id), privateLayers);
    await moveTo((c) => window.map.jumpTo({ center: [(c[0] + c[2]) / 2, (c[1] + c[3]) / 2], zoom: 13 }), top.bbox);
    assert.deepEqual(await view(), [], 'private layers drawn before sign-in');
    await page.locator('#signin-btn').click();
    await page.locator('#token-input').fill(PLANNER);
    const idle = await armIdle();
    await page.locator('#signin-submit').click();
    await page.waitForFunction(() => document.body.classList.contains('is-signed-in'));
    await idle();
    await page.waitForFunction((opts) => window.map.queryRenderedFeatures(opts).some((f) => f.layer.id.startsWith('enterprises')),
      privateLayers, { timeout: TIMEOUT });
    const ids = await view();
    assert.ok(ids.some((id) => id.startsWith('enterprises')), ids.join());
    assert.equal(await page.evaluate(() => sessionStorage.getItem('riskmap.token')), 'demo-planner-7f3a91c2');

    await moveTo((bbox) => window.map.fitBounds(bbox, { padding: 200, maxZoom: 15, duration: 0 }), top.bbox);
    const pt = await pixelInside(top.code, 'cells');
    assert.ok(pt);
    await clickMap(pt);
    await page.locator('#detail [data-breakdown]').waitFor();
    const full = await api(server.base, `/api/cells/${top.code}`, PLANNER);
    const text = await page.locator('#detail').innerText();
    assert.ok(text.includes(full.top_contributors[0].name), 'top contributor listed');
    assert.ok(text.includes(`${full.rank.position}`));
    assert.equal(await page.locator('#detail .score[data-score]').getAttribute('data-score'), full.risk_score.toFixed(1));
    // The waterfall's steps (contributions by domain) add up to the shown score.
    const steps = await page.locator('#detail [data-waterfall] [data-value]').evaluateAll(
      (rows) => rows.map((r) => Number(r.dataset.value)));
    assert.ok(steps.length > 0, 'no waterfall');
    const sum = steps.reduce((a, b) => a + b, 0);
    assert.equal(sum.toFixed(1), full.risk_score.toFixed(1));
  });

  it('the ledger downloads as UTF-8 CSV with BOM and Chinese headers', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#detail [data-ledger][data-format="csv"]').click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`${top.code}\\.csv$`));
    const chunks = [];
    for await (const c of await download.createReadStream()) chunks.push(c);
    const file = Buffer.concat(chunks);
    assert.deepEqual([...file.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.ok(file.subarray(3).toString('utf8').startsWith('序号,风险点类别,编号,名称'));
    const direct = Buffer.from(await (await fetch(`${server.base}/api/cells/${top.code}/ledger.csv`,
      { headers: { Authorization: `Bearer ${PLANNER}` } })).arrayBuffer());
    assert.ok(file.equals(direct), 'downloaded ledger equals the API body');
  });

  it('draws each risk level of the cells in view in its colour; screenshot', async () => {
    await moveTo((bbox) => window.map.fitBounds(bbox, { padding: { top: 40, bottom: 40, left: 40, right: 380 }, maxZoom: 13.2, duration: 0 }), top.bbox);
    await page.evaluate(() => { document.getElementById('detail').scrollTop = 0; });
    const drawn = await page.evaluate(() => [...new Set(window.map
      .queryRenderedFeatures({ layers: ['cells-fill'] })
      .map((f) => f.properties.risk_level))].sort());
    assert.ok(drawn.length >= 3, `only ${drawn} drawn around the top cell`);
    const shares = await levelColourShares(page);
    for (const level of drawn) {
      assert.ok(shares[level] > 0.002, `${level} (${LEVEL_COLOURS[level]}) cells in view but ${(shares[level] * 100).toFixed(2)}% of pixels in its colour: ${JSON.stringify(shares)}`);
    }
    // The README's image is refreshed on purpose only
    // (RISKMAP_SCREENSHOT=docs/screenshot.png); else a temporary file.
    const dir = process.env.RISKMAP_SCREENSHOT ? null : mkdtempSync(join(tmpdir(), 'riskmap-shot-'));
    const path = process.env.RISKMAP_SCREENSHOT ? join(ROOT, process.env.RISKMAP_SCREENSHOT) : join(dir, 'screenshot.png');
    await page.screenshot({ path });
    const png = readFileSync(path);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [1366, 768], 'IHDR size');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('search flies to a code', async () => {
    const village = (await api(server.base, '/api/ranking?level=village&limit=5')).items[2];
    const item = (await api(server.base, `/api/search?q=${village.code}&limit=5`)).items.find((i) => i.id === village.code);
    await page.locator('#detail-close').click();
    await moveTo(() => window.map.jumpTo({ center: [118.6, 25.0], zoom: 7.5 }));
    await page.locator('#search-input').fill(village.code);
    await page.locator('#search-results li[data-index]').first().waitFor();
    const idle = await armIdle();
    await page.locator('#search-input').press('Enter');
    await page.locator('#detail h3').filter({ hasText: village.name }).waitFor({ timeout: TIMEOUT });
    await idle();
    // Fly-to pads for the detail panel, so the centre may lie beside the
    // unit: the unit's whole box must be on the map.
    const { bounds, zoom } = await page.evaluate(() => ({ bounds: window.map.getBounds().toArray(), zoom: window.map.getZoom() }));
    const [w, s, e, n] = item.bbox;
    const [[bw, bs], [be, bn]] = bounds;
    assert.ok(w >= bw && e <= be && s >= bs && n <= bn, JSON.stringify({ bbox: item.bbox, bounds }));
    assert.ok(zoom > 9, `zoom ${zoom}`);
    assert.match(await page.evaluate(() => window.location.hash), /^#\d+(\.\d+)?\/\d+(\.\d+)?\/\d+(\.\d+)?/);
  });

  it('the URL hash restores the view', async () => {
    const hash = await page.evaluate(() => window.location.hash);
    const other = await context.newPage();
    await other.goto(`${server.base}/${hash}`);
    await other.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    const a = await page.evaluate(() => [window.map.getZoom(), window.map.getCenter().lng]);
    const b = await other.evaluate(() => [window.map.getZoom(), window.map.getCenter().lng]);
    assert.ok(Math.abs(a[0] - b[0]) < 0.01 && Math.abs(a[1] - b[1]) < 0.001, `${a} vs ${b}`);
    await other.close();
  });

  it('exports the view as a PNG with title, legend and scale', async () => {
    await page.locator('#export-btn').click();
    await page.locator('#export-dialog[open]').waitFor();
    await page.waitForFunction(() => document.getElementById('export-img').naturalWidth > 0);
    const png = await page.evaluate(async () => {
      const href = document.getElementById('export-download').href;
      const bytes = new Uint8Array(await (await fetch(href)).arrayBuffer());
      const img = document.getElementById('export-img');
      return { head: [...bytes.slice(0, 8)], w: img.naturalWidth, h: img.naturalHeight, canvas: window.map.getCanvas().height };
    });
    assert.deepEqual(png.head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.h > png.canvas, 'title and attribution bands around the map');
    assert.match(await page.locator('#export-download').getAttribute('download'), /^城市安全风险电子地图_\d{8}\.png$/);
    await page.locator('#export-close').click();
  });

  it('signing out hides the private layers again', async () => {
    const idle = await armIdle();
    await page.locator('#signout-btn').click();
    await idle();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('riskmap.token')), null);
    const n = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['enterprises-point', 'enterprises-cluster'] }).length);
    assert.equal(n, 0);
  });

  it('works at phone width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await phone.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.continue();
      blocked.push(url.href);
      return route.abort();
    });
    const p = await phone.newPage();
    p.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`phone: ${m.text()}`); });
    p.on('pageerror', (e) => consoleErrors.push(`phone: ${e}`));
    await p.goto(`${server.base}/`);
    await p.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    const { drawn } = await pixels(p);
    assert.ok(drawn > 0.2, `phone map ${drawn}`);
    const layout = await p.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      title: document.querySelector('h1').getBoundingClientRect().right,
      sidebar: document.getElementById('sidebar').getBoundingClientRect().right,
    }));
    assert.ok(layout.scroll <= 390, `phone page scrolls sideways (${layout.scroll}px)`);
    assert.ok(layout.title <= 390);
    assert.ok(layout.sidebar <= 0, 'sidebar starts closed');
    await p.locator('#sidebar-toggle').click();
    await p.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().left >= 0);
    assert.ok((await p.locator('#legend-list').innerText()).includes('重大'));
    await phone.close();
  });

  /** A fresh context/page limited to 127.0.0.1; console errors kept apart. */
  async function isolatedPage(init) {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    await ctx.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.continue();
      blocked.push(url.href);
      return route.abort();
    });
    if (init) await ctx.addInitScript(init);
    const p = await ctx.newPage();
    p.on('pageerror', (e) => consoleErrors.push(`isolated: ${e}`));
    await p.goto(`${server.base}/`);
    await p.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    return { ctx, p };
  }

  it('an invalid token is refused at sign-in and leaves the page signed out', async () => {
    const { ctx, p } = await isolatedPage();
    await p.locator('#signin-btn').click();
    await p.locator('#token-input').fill('demo-planner-00000000');
    await p.locator('#signin-submit').click();
    await p.locator('#signin-error').waitFor({ state: 'visible' });
    assert.match(await p.locator('#signin-error').textContent(), /令牌无效/);
    assert.equal(await p.evaluate(() => document.body.classList.contains('is-signed-in')), false);
    assert.equal(await p.evaluate(() => sessionStorage.getItem('riskmap.token')), null);
    assert.equal(await p.locator('#signin-dialog').evaluate((d) => d.open), true, 'the dialog stays open');
    await ctx.close();
  });

  it('a stored token the server no longer accepts signs the page out with a notice', async () => {
    // As after a revocation or expiry: the tab still holds the old token.
    const { ctx, p } = await isolatedPage(() => {
      if (!sessionStorage.getItem('riskmap.seeded')) {
        sessionStorage.setItem('riskmap.seeded', '1');
        sessionStorage.setItem('riskmap.token', 'demo-planner-revoked0');
      }
      // Toasts close themselves: keep every one shown.
      window.__toasts = [];
      new MutationObserver((changes) => {
        for (const c of changes) {
          for (const n of c.addedNodes) if (n.classList?.contains('toast')) window.__toasts.push(n.textContent);
        }
      }).observe(document, { childList: true, subtree: true });
    });
    // The page loaded (isolatedPage waits for the map), signed out, and said so.
    assert.equal(await p.evaluate(() => sessionStorage.getItem('riskmap.token')), null);
    const toasts = await p.evaluate(() => window.__toasts);
    assert.ok(toasts.some((t) => t.includes('登录已失效')), JSON.stringify(toasts));
    assert.equal(await p.locator('#loading').getAttribute('class'), 'loading done');
    assert.equal(await p.evaluate(() => document.body.classList.contains('is-signed-in')), false);
    assert.equal(await p.locator('#signin-btn').isVisible(), true);
    await ctx.close();
  });

  it("a grid manager sees the enterprises of the scope only and no unit outside it", async () => {
    const { ctx, p } = await isolatedPage();
    await p.locator('#signin-btn').click();
    await p.locator('#token-input').fill(GRID_MANAGER);
    await p.locator('#signin-submit').click();
    await p.waitForFunction(() => document.body.classList.contains('is-signed-in'));
    // What the scope holds, read with the planner's token.
    const inScope = new Set((await api(server.base, `/api/cells/${GRID_SCOPE}/features?layer=enterprises`, PLANNER))
      .features.map((f) => f.properties.id));
    assert.ok(inScope.size > 0, 'the scope holds enterprises');
    const scope = (await api(server.base, `/api/search?q=${GRID_SCOPE}&limit=5`)).items.find((i) => i.id === GRID_SCOPE);
    const [w, s, e, n] = scope.bbox;
    // A view twice the scope's size: enterprises around it are in the tiles' area.
    await p.evaluate((b) => new Promise((resolve) => {
      window.map.once('idle', resolve);
      window.map.fitBounds(b, { padding: 300, maxZoom: 16, duration: 0 });
      window.map.triggerRepaint();
    }), [[w, s], [e, n]]);
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    const rendered = await p.evaluate(() => window.map
      .queryRenderedFeatures({ layers: ['enterprises-point', 'enterprises-cluster'].filter((id) => window.map.getLayer(id)) })
      .map((f) => ({ id: f.properties.id ?? null, count: f.properties.point_count ?? 1 })));
    assert.ok(rendered.length > 0, 'no enterprise drawn for the grid manager');
    const points = rendered.filter((f) => f.id !== null);
    assert.ok(points.length > 0, 'no single enterprise drawn');
    for (const f of points) assert.ok(inScope.has(f.id), `enterprise ${f.id} outside the scope drawn`);
    // A cell of another village: its details are refused.
    const other = (await api(server.base, '/api/ranking?level=cell&limit=50')).items
      .find((c) => !c.code.startsWith(GRID_SCOPE));
    const found = (await api(server.base, `/api/search?q=${other.code}&limit=5`)).items.find((i) => i.id === other.code);
    await p.evaluate((bbox) => new Promise((resolve) => {
      window.map.once('idle', resolve);
      window.map.fitBounds(bbox, { padding: 200, maxZoom: 15, duration: 0 });
      window.map.triggerRepaint();
    }), found.bbox);
    const pt = await p.evaluate(({ code }) => {
      const map = window.map;
      const c = map.getCanvas();
      for (let y = 10; y < c.clientHeight - 10; y += 6) {
        for (let x = 10; x < c.clientWidth - 10; x += 6) {
          const hit = map.queryRenderedFeatures([x, y], { layers: ['cells-fill'] })[0];
          const others = map.queryRenderedFeatures([[x - 8, y - 8], [x + 8, y + 8]], {
            layers: ['enterprises-point', 'enterprises-cluster', 'hazard-sources-symbol', 'collapse-zones-fill']
              .filter((id) => map.getLayer(id)),
          });
          if (hit?.properties.code === code && others.length === 0) return { x, y };
        }
      }
      return null;
    }, { code: other.code });
    assert.ok(pt, 'no free pixel in the other cell');
    const box = await p.locator('#map canvas').boundingBox();
    await p.mouse.click(box.x + pt.x, box.y + pt.y);
    await p.locator('#detail .note', { hasText: '不在您的管辖范围内' }).waitFor({ timeout: TIMEOUT });
    await ctx.close();
  });

  it('every request went to 127.0.0.1 and nothing was logged as an error', () => {
    assert.deepEqual(blocked, []);
    assert.ok(requests.some((u) => /\/tiles\/\d+\/\d+\/\d+\.mvt/.test(u)), 'tile requests were seen');
    for (const u of requests) {
      const url = new URL(u);
      assert.ok(['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1', u);
    }
    assert.deepEqual(consoleErrors, []);
  });
});
