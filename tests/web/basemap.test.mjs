// The offline basemap and the hover tooltips in headless Chromium against
// the real server on the generated demo city: land beneath the risk map
// and sea outside it, settlement names at cell zoom from the reference
// places, the 底图 toggle, the credits; a tooltip that names what is
// under the mouse. Nothing is fetched from another host.
// Run: node --test tests/web/basemap.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PLANNER, ROOT, api, launchBrowser, startServer } from './server.mjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const TIMEOUT = 120_000;
const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const distance = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

/** 九都镇's place in the reference file (lon, lat). */
function referencePlace(name) {
  const rows = readFileSync(join(ROOT, 'data', 'quanzhou-reference', 'places.csv'), 'utf8').trim().split('\n');
  const row = rows.map((r) => r.split(',')).find((c) => c[7] === name);
  return [Number(row[1]), Number(row[2])];
}

describe('basemap and tooltips in Chromium', { timeout: 15 * 60_000 }, () => {
  let server;
  let browser;
  let page;
  const errors = [];

  async function settle(fn, arg) {
    await page.evaluate(() => { window.__idle = new Promise((r) => window.map.once('idle', r)); });
    await page.evaluate(fn, arg);
    await page.evaluate(() => { window.map.triggerRepaint(); return window.__idle; });
    await page.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  }

  /** The colour of the canvas at map position `lngLat`, or null off screen. */
  function colourAt(lngLat) {
    return page.evaluate((ll) => {
      const map = window.map;
      const c = map.getCanvas();
      const ratio = c.width / c.clientWidth;
      const p = map.project(ll);
      if (p.x < 0 || p.y < 0 || p.x >= c.clientWidth || p.y >= c.clientHeight) return null;
      const t = document.createElement('canvas');
      t.width = c.width;
      t.height = c.height;
      const ctx = t.getContext('2d');
      ctx.drawImage(c, 0, 0);
      const d = ctx.getImageData(Math.round(p.x * ratio), Math.round(p.y * ratio), 1, 1).data;
      return [d[0], d[1], d[2]];
    }, lngLat);
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', acceptDownloads: true });
    await ctx.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.continue();
      errors.push(`blocked ${url.href}`);
      return route.abort();
    });
    page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  it('draws land beneath the risk map and the sea outside it', async () => {
    const order = await page.evaluate(() => window.map.getStyle().layers.map((l) => l.id));
    assert.ok(order.indexOf('basemap-land') < order.indexOf('counties-fill'), order.join());
    assert.ok(order.indexOf('basemap-place-dot') < order.indexOf('enterprises-point'), order.join());
    const { land, background } = await page.evaluate(() => ({
      land: window.map.getPaintProperty('basemap-land', 'fill-color'),
      background: window.map.getPaintProperty('background', 'background-color'),
    }));
    // Hide the risk map: what is left is the basemap.
    await settle(() => { for (const g of ['choropleth', 'boundaries', 'labels', 'collapse_zones']) document.querySelector(`[data-group="${g}"]`).click(); });
    await settle(() => window.map.jumpTo({ center: [118.75, 24.85], zoom: 8 }));
    // Inland Fujian west of the city, and the Taiwan Strait east of it.
    const inland = await colourAt([117.9, 25.2]);
    const strait = await colourAt([119.45, 24.6]);
    assert.ok(inland && strait, 'both places on screen');
    assert.ok(distance(inland, rgb(land)) <= 3, `inland ${inland} is not land ${land}`);
    assert.ok(distance(strait, rgb(background)) <= 3, `strait ${strait} is not sea ${background}`);
    // 底图 off: the land is gone too.
    await settle(() => document.querySelector('[data-group="basemap"]').click());
    assert.ok(distance(await colourAt([117.9, 25.2]), rgb(background)) <= 3, 'land still drawn with 底图 off');
    await settle(() => document.querySelector('[data-group="basemap"]').click());
    assert.ok(distance(await colourAt([117.9, 25.2]), rgb(land)) <= 3, 'land back');
    await settle(() => { for (const g of ['choropleth', 'boundaries', 'labels', 'collapse_zones']) document.querySelector(`[data-group="${g}"]`).click(); });
  });

  it('names settlements at their reference places at cell zoom', async () => {
    const at = referencePlace('九都镇');
    await settle((c) => window.map.jumpTo({ center: c, zoom: 13.5 }), at);
    const labels = await page.evaluate(() => window.map.queryRenderedFeatures({ layers: ['basemap-place-label'] })
      .map((f) => ({ name: f.properties.name, at: f.geometry.coordinates })));
    const found = labels.find((l) => l.name === '九都镇');
    assert.ok(found, `九都镇 not labelled: ${labels.map((l) => l.name).join()}`);
    assert.ok(Math.abs(found.at[0] - at[0]) < 1e-4 && Math.abs(found.at[1] - at[1]) < 1e-4, JSON.stringify(found));
  });

  it('credits the basemap with the map', async () => {
    const credit = await page.evaluate(() => document.querySelector('.maplibregl-ctrl-attrib-inner')?.textContent ?? '');
    assert.ok(credit.includes('GeoNames') && credit.includes('天地图'), credit);
  });

  it('a tooltip names the unit under the mouse with its level and score', async () => {
    await settle(() => window.map.jumpTo({ center: [118.6, 24.95], zoom: 11 }));
    const box = await page.locator('#map canvas').boundingBox();
    const [x, y] = [box.x + box.width * 0.6, box.y + box.height * 0.5];
    await page.mouse.move(x - 20, y - 20);
    await page.mouse.move(x, y, { steps: 4 });
    await page.locator('.hover-tip').waitFor({ timeout: 10_000 });
    const under = await page.evaluate(([px, py]) => window.map
      .queryRenderedFeatures([px, py], { layers: ['villages-fill'] })[0]?.properties, [x - box.x, y - box.y]);
    assert.ok(under, 'no village under the mouse');
    const text = await page.locator('.hover-tip').innerText();
    assert.ok(text.includes(under.name), `${text} does not name ${under.name}`);
    assert.ok(text.includes(`${Number(under.risk_score).toFixed(1)} 分`), text);
    const unit = await api(server.base, `/api/cells/${under.code}`, PLANNER);
    assert.ok(text.includes(`${unit.risk_score.toFixed(1)} 分`), `${text} vs API ${unit.risk_score}`);
    // Leaving the map hides it.
    await page.mouse.move(5, 300);
    await page.locator('.hover-tip').waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('a signed-in planner sees an enterprise named in its tooltip', async () => {
    await page.evaluate((t) => sessionStorage.setItem('riskmap.token', t), PLANNER);
    await page.reload();
    await page.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    await settle(() => window.map.jumpTo({ center: [118.6, 24.92], zoom: 16 }));
    const target = await page.evaluate(() => {
      const map = window.map;
      const c = map.getCanvas();
      const f = map.queryRenderedFeatures({ layers: ['enterprises-point'] })
        .map((e) => ({ name: e.properties.name, p: map.project(e.geometry.coordinates) }))
        .find((e) => e.p.x > 40 && e.p.y > 40 && e.p.x < c.clientWidth - 40 && e.p.y < c.clientHeight - 40
          && map.queryRenderedFeatures([[e.p.x - 6, e.p.y - 6], [e.p.x + 6, e.p.y + 6]],
            { layers: ['enterprises-point', 'enterprises-cluster', 'hazard-sources-symbol'] }).length === 1);
      return f ? { name: f.name, x: f.p.x, y: f.p.y } : null;
    });
    assert.ok(target, 'no lone enterprise on screen');
    const box = await page.locator('#map canvas').boundingBox();
    await page.mouse.move(box.x + target.x - 15, box.y + target.y);
    await page.mouse.move(box.x + target.x, box.y + target.y, { steps: 3 });
    await page.waitForFunction((name) => document.querySelector('.hover-tip')?.textContent.includes(name), target.name, { timeout: 10_000 });
  });

  it('the ranking is saved as an Excel workbook of every unit of the level', async () => {
    await page.locator('#ranking-tabs [data-level="village"]').click();
    await page.waitForFunction(() => document.querySelectorAll('#ranking li[data-index]').length > 10);
    const shown = await page.locator('#ranking li[data-index]').count();
    assert.equal(shown, 100, 'the list shows the top 100');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#ranking-export').click(),
    ]);
    assert.equal(download.suggestedFilename(), '风险排名_村社区.xlsx');
    const bytes = readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'an xlsx is a zip');
    // The server's workbook of the whole level (its creation time aside).
    const direct = Buffer.from(await (await fetch(`${server.base}/api/ranking?level=village&format=xlsx`)).arrayBuffer());
    assert.ok(bytes.length > 20_000, `${bytes.length} bytes for 2,572 villages`);
    assert.ok(Math.abs(bytes.length - direct.length) < 64, `${bytes.length} vs ${direct.length}`);
  });

  it('logged no error and fetched nothing elsewhere', () => {
    assert.deepEqual(errors, []);
  });
});
