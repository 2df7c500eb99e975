// Tiles that may lag the writes (`[tiles] stale_ms`), in the browser: the
// page's refresh after a write may bring a tile's state before it, so the
// page asks for the written area again once the lag has run out; the cell
// takes its new colour without a reload. Run: node --test tests/web/
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PLANNER, api, launchBrowser, startServer } from './server.mjs';

/** The lag: long enough that the write lands within it on a slow machine. */
const STALE_MS = 12_000;
const TIMEOUT = 120_000;
/** A village of the demo city. */
const VILLAGE = '350502001001';

describe('tiles that lag the writes', { timeout: 10 * 60_000 }, () => {
  let server;
  let browser;
  let page;
  let cell;
  const consoleErrors = [];
  const blocked = [];

  /** The score the rendered tiles give cell `code` (null if not drawn). */
  const tileScore = (code) => page.evaluate((code) => {
    const f = window.map.queryRenderedFeatures({ layers: ['cells-fill'] }).find((x) => x.properties.code === code);
    return f ? Number(f.properties.risk_score).toFixed(1) : null;
  }, code);

  before(async () => {
    server = await startServer({ config: `[tiles]\nstale_ms = ${STALE_MS}\n` });
    browser = await launchBrowser();
    const village = await api(server.base, `/api/cells/${VILLAGE}`, PLANNER);
    const code = village.children[0].code;
    const found = (await api(server.base, `/api/search?q=${code}&limit=5`)).items.find((i) => i.id === code);
    cell = { code, bbox: found.bbox };
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    await ctx.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.fallback();
      blocked.push(url.href);
      return route.abort();
    });
    await ctx.addInitScript((t) => sessionStorage.setItem('riskmap.token', t), PLANNER);
    page = await ctx.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  it('a write shows on the map once the lag has run out, without a reload', async () => {
    const tilejson = await api(server.base, '/tiles.json');
    assert.equal(tilejson['riskmap:stale_ms'], STALE_MS);
    // The cell's tiles, built now: the write below lands within the lag.
    await page.evaluate((bbox) => new Promise((resolve) => {
      window.map.once('idle', resolve);
      window.map.fitBounds(bbox, { padding: 120, maxZoom: 16, duration: 0 });
      window.map.triggerRepaint();
    }), cell.bbox);
    await page.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    const shown = await tileScore(cell.code);
    assert.ok(shown, 'the cell is drawn');
    // A point of the cell, away from the point symbols.
    const at = await page.evaluate((code) => {
      const map = window.map;
      const c = map.getCanvas();
      for (let y = 20; y < c.clientHeight - 20; y += 7) {
        for (let x = 20; x < c.clientWidth - 20; x += 7) {
          const hit = map.queryRenderedFeatures([x, y], { layers: ['cells-fill'] })[0];
          if (hit?.properties.code === code) return map.unproject([x, y]).toArray();
        }
      }
      return null;
    }, cell.code);
    assert.ok(at, 'a point of the cell on screen');
    const resp = await fetch(`${server.base}/api/hidden-dangers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${PLANNER}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ lon: at[0], lat: at[1], grade: 'major', category: 'road', description: '路面塌陷隐患', deadline: '2099-12-31' }),
    });
    assert.equal(resp.status, 201, await resp.text());
    const reportedAt = Date.now();
    const now = (await api(server.base, `/api/cells/${cell.code}`, PLANNER)).risk_score.toFixed(1);
    assert.notEqual(now, shown, 'a major danger changes the cell score');
    await page.waitForFunction(({ code, s }) => {
      const f = window.map.queryRenderedFeatures({ layers: ['cells-fill'] }).find((x) => x.properties.code === code);
      return f && Number(f.properties.risk_score).toFixed(1) === s;
    }, { code: cell.code, s: now }, { timeout: STALE_MS + 30_000, polling: 100 });
    assert.equal(await tileScore(cell.code), now);
    console.log(`the cell took its new score ${Date.now() - reportedAt} ms after the write (lag ${STALE_MS} ms)`);
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(blocked, []);
  });
});
