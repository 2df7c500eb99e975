// The static edition end to end: the real binary exports the demo city as a
// PMTiles archive with the web page beside it (`export-pmtiles
// --with-page`), a plain Range-capable file server serves that folder under
// a sub-path, and headless Chromium must draw the map from the archive
// alone. Scores are checked against `riskmap score` of the same data.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, canvasPixels, generateDemo, launchBrowser, run } from './server.mjs';
import { parseRange, serveStatic } from './static-host.mjs';

const TIMEOUT = 120_000;
const PREFIX = '/city/risk-map/';

/** Rows of a CSV file (UTF-8 with BOM, quoted fields) as objects. */
function readCsv(path) {
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field.replace(/\r$/, '')); rows.push(row); row = []; field = ''; } else field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

/** [w, s, e, n] of the coordinates in a WKT geometry. */
function wktBounds(wkt) {
  const nums = wkt.match(/-?\d+(\.\d+)?/g).map(Number);
  const xs = nums.filter((_, i) => i % 2 === 0);
  const ys = nums.filter((_, i) => i % 2 === 1);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

describe('static host helper', () => {
  it('parses single byte ranges', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), [0, 99]);
    assert.deepEqual(parseRange('bytes=990-', 1000), [990, 999]);
    assert.deepEqual(parseRange('bytes=-10', 1000), [990, 999]);
    assert.deepEqual(parseRange('bytes=900-5000', 1000), [900, 999]);
    assert.equal(parseRange('bytes=1000-', 1000), null);
    assert.equal(parseRange('bytes=5-1', 1000), null);
    assert.equal(parseRange('items=0-1', 1000), null);
  });
});

describe('vendored pmtiles', () => {
  it('web/vendor holds the pmtiles of package-lock.json with its licences', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const version = lock.packages['node_modules/pmtiles'].version;
    assert.equal(pkg.devDependencies.pmtiles, version, 'package.json pins the exact version');
    const a = readFileSync(join(ROOT, 'web', 'vendor', 'pmtiles.js'));
    const b = readFileSync(join(ROOT, 'node_modules', 'pmtiles', 'dist', 'pmtiles.js'));
    assert.ok(a.equals(b), `web/vendor/pmtiles.js differs from pmtiles ${version}: run npm run vendor`);
    assert.match(a.subarray(0, 200).toString(), /var pmtiles=/, 'the IIFE build defines the global pmtiles');
    const licence = readFileSync(join(ROOT, 'web', 'vendor', 'pmtiles-LICENSE.txt'), 'utf8');
    assert.ok(licence.includes(`pmtiles ${version}`) && licence.includes('Protomaps LLC'), 'pmtiles licence');
    assert.ok(licence.includes(readFileSync(join(ROOT, 'node_modules', 'fflate', 'LICENSE'), 'utf8').trim()), 'fflate licence');
  });
});

describe('static site in Chromium', { timeout: 15 * 60_000 }, () => {
  let demo;
  let host;
  let browser;
  let context;
  let page;
  let cells;
  let counties;
  let site;
  const requests = [];
  const blocked = [];
  const consoleErrors = [];

  async function open(path) {
    const p = await context.newPage();
    p.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${path}: ${m.text()}`); });
    p.on('pageerror', (e) => consoleErrors.push(`${path}: ${e}`));
    await p.goto(host.base + path);
    return p;
  }

  async function ready(p) {
    await p.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  }

  /** Moves the map (in page `p`) and waits until it is idle. */
  async function moveTo(p, fn, arg) {
    await p.evaluate(() => {
      window.__idle = new Promise((resolve) => window.map.once('idle', resolve));
    });
    await p.evaluate(fn, arg);
    await p.evaluate(() => { window.map.triggerRepaint(); return window.__idle; });
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  }

  before(async () => {
    demo = generateDemo();
    const out = join(demo.dir, 'site');
    const log = run(demo.dir, ['export-pmtiles', '--data', demo.data, '--out', join(out, 'risk.pmtiles'),
      '--maxzoom', '12', '--with-page']);
    assert.match(log, /wrote the web page/);
    // A confidential archive in the same folder, opened with ?pmtiles=.
    run(demo.dir, ['export-pmtiles', '--data', demo.data, '--out', join(out, 'private.pmtiles'),
      '--maxzoom', '13', '--include-private']);
    run(demo.dir, ['score', '--data', demo.data, '--out', join(demo.dir, 'scores.csv')]);
    const rows = readCsv(join(demo.dir, 'scores.csv'));
    cells = rows.filter((r) => r.level === 'cell').sort((a, b) => Number(b.risk_score) - Number(a.risk_score));
    counties = rows.filter((r) => r.level === 'county');
    site = JSON.parse(readFileSync(join(out, 'site.json'), 'utf8'));
    host = await serveStatic(out, PREFIX);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.continue();
      blocked.push(url.href);
      return route.abort();
    });
    context.on('request', (r) => requests.push(r.url()));
    // Every message the page shows over the map (they fade after a while).
    await context.addInitScript(() => {
      window.__toasts = [];
      document.addEventListener('DOMContentLoaded', () => {
        new MutationObserver((changes) => {
          for (const c of changes) for (const n of c.addedNodes) window.__toasts.push(n.textContent.trim());
        }).observe(document.getElementById('toasts'), { childList: true });
      });
    });
    page = await open('');
    await ready(page);
  });

  after(async () => {
    await browser?.close();
    await host?.close();
    if (demo) rmSync(demo.dir, { recursive: true, force: true });
  });

  it('draws the choropleth from the archive under a sub-path', async () => {
    const source = await page.evaluate(() => ({
      url: window.map.getStyle().sources.riskmap.url,
      layers: window.map.getSource('riskmap').vectorLayerIds,
    }));
    assert.equal(source.url, `pmtiles://${host.base}risk.pmtiles`);
    // The basemap the export wrote beside the page, read from the site.
    const land = await page.evaluate(() => window.map.getStyle().sources['basemap-land']?.data);
    assert.ok(land?.features?.length > 0, 'no basemap land loaded from the site');
    assert.deepEqual([...source.layers].sort(), ['cells', 'collapse_zones', 'counties', 'towns', 'villages']);
    const feats = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['counties-fill'] })
      .map((f) => f.properties));
    assert.ok(feats.length > 0, 'no county drawn');
    const byCode = new Map(counties.map((c) => [c.code, c]));
    for (const p of feats) {
      const want = byCode.get(p.code);
      assert.ok(want, `unknown county ${p.code}`);
      assert.equal(p.risk_level, want.risk_level, p.code);
      assert.equal(p.risk_score.toFixed(1), Number(want.risk_score).toFixed(1), p.code);
    }
    const { drawn } = await canvasPixels(page);
    assert.ok(drawn > 0.15, `only ${(drawn * 100).toFixed(1)}% drawn`);
  });

  it('the legend counts the counties of the archive', async () => {
    await page.waitForFunction(() => document.querySelector('[data-count="major"]').textContent !== '–');
    const want = { major: 0, high: 0, medium: 0, low: 0 };
    for (const c of counties) want[c.risk_level]++;
    for (const level of Object.keys(want)) {
      const shown = await page.locator(`[data-count="${level}"]`).textContent();
      assert.equal(Number(shown.replace(/,/g, '')), want[level], level);
    }
    assert.match(await page.locator('#legend-scope').textContent(), /全市 · 区县/);
  });

  it('is marked as the static edition and hides what needs the server', async () => {
    const note = await page.locator('#static-note').innerText();
    assert.ok(note.includes('静态版'), note);
    assert.ok(note.includes(site.data_version.slice(0, 12)), note);
    const d = new Date(site.exported);
    assert.ok(note.includes(`${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日`), note);
    assert.ok((await page.locator('#subtitle').textContent()).includes('静态版'));
    for (const sel of ['#auth', '.search', '#ranking']) {
      assert.equal(await page.locator(sel).isVisible(), false, `${sel} is shown`);
    }
    for (const group of ['enterprises', 'hazard_sources']) {
      assert.equal(await page.locator(`[data-group="${group}"]`).isVisible(), false, `${group} toggle`);
    }
    for (const sel of ['[data-symbol="hazard"]', '.sym-cluster']) {
      assert.equal(await page.locator(`.legend-symbols ${sel}`).isVisible(), false, `${sel} in the legend`);
    }
    const drawn = await page.evaluate(() => window.map.getStyle().layers.map((l) => l['source-layer']).filter(Boolean));
    assert.ok(drawn.includes('cells') && !drawn.includes('enterprises') && !drawn.includes('hazard_sources'), drawn.join());
    assert.ok(await page.locator('[data-group="choropleth"]').isVisible());
  });

  it('clicking the highest-risk cell shows its score from the tile', async () => {
    const top = cells[0];
    await moveTo(page, (bbox) => window.map.fitBounds(bbox, { padding: 200, maxZoom: 15, duration: 0 }), wktBounds(top.wkt));
    const pt = await page.evaluate((code) => {
      const map = window.map;
      const canvas = map.getCanvas();
      const found = [];
      for (let y = 10; y < canvas.clientHeight - 10; y += 6) {
        for (let x = 10; x < canvas.clientWidth - 10; x += 6) {
          if (map.queryRenderedFeatures([x, y], { layers: ['cells-fill'] })[0]?.properties.code !== code) continue;
          const others = map.queryRenderedFeatures([[x - 8, y - 8], [x + 8, y + 8]], { layers: ['collapse-zones-fill'] });
          if (!others.length) found.push({ x, y, d: (x - canvas.clientWidth / 2) ** 2 + (y - canvas.clientHeight / 2) ** 2 });
        }
      }
      return found.sort((a, b) => a.d - b.d)[0] ?? null;
    }, top.code);
    assert.ok(pt, 'no free pixel inside the cell');
    const box = await page.locator('#map canvas').boundingBox();
    await page.mouse.click(box.x + pt.x, box.y + pt.y);
    await page.locator('#detail').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#detail h3').textContent(), top.name);
    assert.equal(await page.locator('#detail .score[data-score]').getAttribute('data-score'), Number(top.risk_score).toFixed(1));
    const text = await page.locator('#detail').innerText();
    assert.ok(text.includes(top.code), text);
    assert.ok(text.includes('静态版'), text);
    const parent = readCsv(join(demo.dir, 'scores.csv')).find((r) => r.code === top.parent_code);
    assert.ok(text.includes(parent.name), `parent ${parent.name} named: ${text}`);
    assert.equal(await page.locator('#detail [data-action=signin]').count(), 0);
  });

  it('exports the view as a PNG with the archive\'s attribution', async () => {
    await page.locator('#export-btn').click();
    await page.locator('#export-dialog[open]').waitFor();
    await page.waitForFunction(() => document.getElementById('export-img').naturalWidth > 0);
    const head = await page.evaluate(async () => {
      const bytes = new Uint8Array(await (await fetch(document.getElementById('export-download').href)).arrayBuffer());
      return [...bytes.slice(0, 4)];
    });
    assert.deepEqual(head, [0x89, 0x50, 0x4e, 0x47]);
    const attribution = await page.evaluate(() => window.map.getSource('riskmap').attribution);
    assert.match(attribution, /GS\(2024\)0650/);
    await page.locator('#export-close').click();
  });

  it('?pmtiles= opens another archive of the site, with its private layers', async () => {
    const p = await open('?pmtiles=private.pmtiles');
    await ready(p);
    const layers = await p.evaluate(() => window.map.getSource('riskmap').vectorLayerIds);
    assert.ok(layers.includes('enterprises') && layers.includes('hazard_sources'), layers.join());
    assert.ok(await p.locator('[data-group="enterprises"]').isVisible());
    assert.match(await p.locator('#static-note').innerText(), /涉密/);
    assert.ok(await p.locator('.legend-symbols .sym-cluster').isVisible(), 'enterprise symbol in the legend');
    const top = cells[0];
    const [w, s, e, n] = wktBounds(top.wkt);
    await moveTo(p, (c) => window.map.jumpTo({ center: c, zoom: 13 }), [(w + e) / 2, (s + n) / 2]);
    await p.waitForFunction(() => window.map.queryRenderedFeatures({ layers: ['enterprises-point', 'enterprises-cluster'] }).length > 0,
      null, { timeout: TIMEOUT });
    assert.deepEqual(await p.evaluate(() => window.__toasts), []);
    await p.close();
  });

  it('refuses an archive on another host', async () => {
    const p = await open('?pmtiles=http://127.0.0.2:9/x.pmtiles');
    await p.waitForFunction(() => document.getElementById('loading').innerText.includes('只能读取本站'), null, { timeout: TIMEOUT });
    await p.close();
  });

  it('read the archive with Range requests and never asked for /api or /tiles', () => {
    assert.deepEqual(blocked, []);
    const archive = host.log.filter((r) => r.path === `${PREFIX}risk.pmtiles`);
    assert.ok(archive.length >= 3, `${archive.length} archive requests`);
    for (const r of archive) {
      assert.ok(r.range, 'every archive read is a Range request');
      assert.equal(r.status, 206);
    }
    for (const u of requests) {
      const url = new URL(u);
      if (['data:', 'blob:'].includes(url.protocol)) continue;
      assert.equal(url.hostname, '127.0.0.1', u);
      if (url.hostname === '127.0.0.1' && url.port === new URL(host.base).port) {
        assert.ok(url.pathname.startsWith(PREFIX), `request outside the site: ${u}`);
      }
      assert.doesNotMatch(url.pathname, /\/(api|tiles)(\/|$)|\/tiles\.json$|\/health$/, u);
    }
    const statuses = host.log.filter((r) => r.status >= 400).map((r) => `${r.status} ${r.path}`);
    assert.deepEqual(statuses, []);
    assert.deepEqual(consoleErrors, []);
  });

  it('showed no error message on the page', async () => {
    assert.deepEqual(await page.evaluate(() => window.__toasts), []);
  });
});
