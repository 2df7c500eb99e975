// The web page for officials (issue #28): points that never bury the
// choropleth, figures that name their scope, identity in the header, the
// grid manager's landing, keyboard use, pinyin search, fly-to beside the
// panel and the A3 print. Real server, real Chromium.
// Run: node --test tests/web/round2.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PLANNER, api, launchBrowser, startServer } from './server.mjs';

const GRID_MANAGER = 'demo-grid-5c8e17a4';
const GRID_SCOPE = '350502001001';
const TIMEOUT = 180_000;

/**
 * The most of the map canvas that point symbols (enterprises, their
 * clusters, hazard sources) may cover at city zoom. A reader must see the
 * risk colour of the units and their names: with at most 4 % covered, 96 %
 * of the choropleth stays visible, and a county of the demo city (the
 * smallest, 鲤城区, spans about 1 % of the city view) cannot be hidden by
 * them; the cluttered page of the issue covered far more.
 */
const MAX_POINT_SHARE = 0.04;

/** The layers that draw point symbols. */
const POINT_LAYERS = ['enterprises-point', 'enterprises-cluster', 'hazard-sources-symbol'];

describe('web page for officials', { timeout: 20 * 60_000 }, () => {
  let server;
  let browser;
  const errors = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  /** A page of its own, signed in with `token` (if any), map idle. */
  async function openPage(token, { viewport = { width: 1366, height: 768 } } = {}) {
    const ctx = await browser.newContext({ viewport, locale: 'zh-CN', acceptDownloads: true });
    await ctx.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.continue();
      errors.push(`blocked ${url.href}`);
      return route.abort();
    });
    if (token) await ctx.addInitScript((t) => sessionStorage.setItem('riskmap.token', t), token);
    const p = await ctx.newPage();
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await p.goto(`${server.base}/`);
    await p.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    return { ctx, p };
  }

  /** Runs `fn(arg)` in the page (a map move) and waits until the map is idle again. */
  async function moveTo(p, fn, arg) {
    await p.evaluate(() => { window.__idle = new Promise((r) => window.map.once('idle', r)); });
    await p.evaluate(fn, arg);
    await p.evaluate(() => { window.map.triggerRepaint(); return window.__idle; });
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  }

  /**
   * The share of the map canvas's pixels drawn by `layers` alone: every
   * other layer is hidden (the canvas is then transparent where nothing
   * is drawn), the pixels with any opacity counted, the layers restored.
   */
  function shareDrawnBy(p, layers) {
    return p.evaluate(async (only) => {
      const map = window.map;
      const saved = map.getStyle().layers.map((l) => [l.id, map.getLayoutProperty(l.id, 'visibility') ?? 'visible']);
      for (const [id] of saved) if (!only.includes(id)) map.setLayoutProperty(id, 'visibility', 'none');
      await new Promise((r) => { map.once('idle', r); map.triggerRepaint(); });
      const c = map.getCanvas();
      const t = document.createElement('canvas');
      t.width = c.width;
      t.height = c.height;
      const ctx = t.getContext('2d');
      ctx.drawImage(c, 0, 0);
      const d = ctx.getImageData(0, 0, t.width, t.height).data;
      let drawn = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) drawn++;
      for (const [id, v] of saved) map.setLayoutProperty(id, 'visibility', v);
      await new Promise((r) => { map.once('idle', r); map.triggerRepaint(); });
      return drawn / (d.length / 4);
    }, layers);
  }

  it('signed in at city zoom, point symbols cover little of the map and every county is named', async (t) => {
    const { ctx, p } = await openPage(PLANNER);
    const counties = (await api(server.base, '/api/ranking?level=county&limit=100')).items.map((i) => i.name);
    assert.ok(counties.length > 3, 'the demo city has counties');
    // Hazard sources are drawn above the enterprises.
    const order = await p.evaluate(() => window.map.getStyle().layers.map((l) => l.id));
    for (const e of ['enterprises-point', 'enterprises-cluster']) {
      assert.ok(order.indexOf('hazard-sources-symbol') > order.indexOf(e), `${e} drawn over the hazard sources`);
    }
    const zoom = await p.evaluate(() => window.map.getZoom());
    assert.ok(zoom < 9, `the city view starts at zoom ${zoom}`);
    const share = await shareDrawnBy(p, POINT_LAYERS);
    t.diagnostic(`point symbols cover ${(share * 100).toFixed(2)}% of the map at zoom ${zoom.toFixed(2)}`);
    assert.ok(share < MAX_POINT_SHARE, `point symbols cover ${(share * 100).toFixed(2)}% of the map`);
    const labelled = await p.evaluate(() => window.map.queryRenderedFeatures({ layers: ['counties-label'] })
      .map((f) => f.properties.name));
    for (const name of counties) assert.ok(labelled.includes(name), `${name} not labelled: ${labelled.join()}`);

    // Where enterprises show (street zoom), their clusters never overlap.
    const top = (await api(server.base, '/api/ranking?level=village&limit=1')).items[0];
    const hit = (await api(server.base, `/api/search?q=${top.code}&limit=3`)).items.find((i) => i.id === top.code);
    const [w, s, e, n] = hit.bbox;
    await moveTo(p, (c) => window.map.jumpTo({ center: c, zoom: 12.6 }), [(w + e) / 2, (s + n) / 2]);
    await p.waitForFunction((ids) => window.map.queryRenderedFeatures({ layers: ids }).length > 0,
      ['enterprises-point', 'enterprises-cluster'], { timeout: TIMEOUT });
    const discs = await p.evaluate(() => {
      const map = window.map;
      const seen = new Map();
      for (const f of map.queryRenderedFeatures({ layers: ['enterprises-cluster'] })) {
        const at = map.project(f.geometry.coordinates);
        seen.set(`${f.properties.point_count}/${at.x.toFixed(1)}/${at.y.toFixed(1)}`, { x: at.x, y: at.y, n: f.properties.point_count });
      }
      return [...seen.values()];
    });
    // The smallest cluster disc is 26 px × 0.62 wide: closer centres would overlap.
    for (let i = 0; i < discs.length; i++) {
      for (let j = i + 1; j < discs.length; j++) {
        const d = Math.hypot(discs[i].x - discs[j].x, discs[i].y - discs[j].y);
        assert.ok(d >= 16, `clusters ${JSON.stringify(discs[i])} and ${JSON.stringify(discs[j])} overlap (${d.toFixed(1)} px)`);
      }
    }
    const streetShare = await shareDrawnBy(p, POINT_LAYERS);
    t.diagnostic(`at zoom 12.6: ${discs.length} clusters, point symbols cover ${(streetShare * 100).toFixed(2)}%`);
    assert.ok(streetShare > 0, 'no point symbol drawn at street zoom');
    await ctx.close();
  });

  it('the legend and the footer name their scope and equal /api/stats for it; the subtitle dates the data', async () => {
    const { ctx, p } = await openPage(null);
    const health = await api(server.base, '/health');
    const [y, m, d] = health.as_of.split('-').map(Number);
    await p.waitForFunction(() => /数据截至/.test(document.getElementById('subtitle').textContent));
    assert.equal(await p.locator('#subtitle').textContent(), `安全风险分级管控 · 数据截至 ${y}年${m}月${d}日`);
    assert.equal(await p.locator('#subtitle').getAttribute('title'), `数据版本 ${health.data_version}`);

    /** The legend's and footer's figures, and the scope they name. */
    const read = () => p.evaluate(() => ({
      scope: document.getElementById('legend-scope').textContent,
      within: document.getElementById('data-status').dataset.within,
      foot: document.getElementById('data-status').textContent,
      counts: Object.fromEntries(['major', 'high', 'medium', 'low'].map((k) =>
        [k, Number(document.querySelector(`[data-count="${k}"]`).textContent.replace(/,/g, ''))])),
    }));
    const check = async (level, levelZh) => {
      const shown = await read();
      const stats = await api(server.base, `/api/stats${shown.within ? `?within=${shown.within}` : ''}`);
      assert.deepEqual(shown.counts, stats.levels[level], `${shown.scope}: legend vs /api/stats`);
      const name = shown.within
        ? (await api(server.base, `/api/search?q=${shown.within}&limit=3`)).items.find((i) => i.id === shown.within).name
        : '全市';
      assert.equal(shown.scope, `统计范围：${name} · ${levelZh}`);
      assert.ok(shown.foot.startsWith(name), shown.foot);
      const l = stats.layers;
      for (const [k, unit] of [['enterprises', '家'], ['hazard_sources', '处'], ['collapse_zones', '处']]) {
        assert.ok(shown.foot.includes(` ${l[k].toLocaleString('zh-CN')} ${unit}`), `${k} ${l[k]} not in: ${shown.foot}`);
      }
      return shown;
    };
    await p.waitForFunction(() => document.querySelector('[data-count="major"]').textContent !== '–');
    const city = await check('county', '区县');
    assert.equal(city.within, '');
    // Zoomed to villages in the middle of the largest county: the scope is
    // the smallest unit that holds every village drawn.
    const boxes = [];
    for (const c of (await api(server.base, '/api/ranking?level=county&limit=100')).items) {
      const hit = (await api(server.base, `/api/search?q=${c.code}&limit=1`)).items[0];
      boxes.push({ bbox: hit.bbox, area: (hit.bbox[2] - hit.bbox[0]) * (hit.bbox[3] - hit.bbox[1]) });
    }
    boxes.sort((a, b) => b.area - a.area);
    const [w, s, e, n] = boxes[0].bbox;
    await moveTo(p, (c) => window.map.jumpTo({ center: c, zoom: 12.3 }), [(w + e) / 2, (s + n) / 2]);
    await p.waitForFunction(() => document.getElementById('data-status').dataset.within !== '', null, { timeout: TIMEOUT });
    await p.waitForFunction((within) => document.getElementById('legend-scope').textContent.includes('村/社区'), null, { timeout: TIMEOUT });
    const local = await check('village', '村/社区');
    // Every village drawn lies inside the named scope.
    const drawn = await p.evaluate(() => [...new Set(window.map.queryRenderedFeatures({ layers: ['villages-fill'] })
      .map((f) => f.properties.code))]);
    assert.ok(drawn.length > 0);
    for (const code of drawn) assert.ok(code.startsWith(local.within), `${code} drawn outside ${local.within}`);
    await ctx.close();
  });

  it('a grid manager lands on his unit, outlined, and the header shows role and area, never the token', async () => {
    const { ctx, p } = await openPage(null);
    await p.locator('#signin-btn').click();
    await p.locator('#token-input').fill(GRID_MANAGER);
    await p.locator('#signin-submit').click();
    await p.waitForFunction(() => document.getElementById('who').textContent.includes('·'), null, { timeout: TIMEOUT });
    assert.equal(await p.locator('#who').textContent(), '网格员 · 金山社区');
    const header = await p.locator('header').innerText();
    assert.ok(!header.includes('demo-'), `token shown in the header: ${header}`);
    // The map frames the unit and outlines it.
    await p.waitForFunction((code) => JSON.stringify(window.map.getFilter('villages-selected')).includes(code),
      GRID_SCOPE, { timeout: TIMEOUT });
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    const me = await api(server.base, '/api/me', GRID_MANAGER);
    const view = await p.evaluate(() => window.map.getBounds().toArray().flat());
    const [w, s, e, n] = me.scope.bbox;
    assert.ok(view[0] <= w && view[1] <= s && view[2] >= e && view[3] >= n, `view ${view} misses the unit ${me.scope.bbox}`);
    const outlined = await p.evaluate(() => window.map.queryRenderedFeatures({ layers: ['villages-selected'] })
      .map((f) => f.properties.code));
    assert.ok(outlined.includes(GRID_SCOPE), `the unit outline is not drawn: ${outlined}`);
    // The outline stays when another unit is chosen and its panel closed.
    await p.keyboard.press('Escape');
    assert.ok(JSON.stringify(await p.evaluate(() => window.map.getFilter('villages-selected'))).includes(GRID_SCOPE));
    await ctx.close();

    const planner = await openPage(PLANNER);
    await planner.p.waitForFunction(() => document.getElementById('who').textContent.includes('·'), null, { timeout: TIMEOUT });
    assert.equal(await planner.p.locator('#who').textContent(), '规划管理 · 全市');
    await planner.ctx.close();
  });

  it('keyboard only: Tab reaches the ranking, Enter flies to the entry, Esc closes the panel', async () => {
    const { ctx, p } = await openPage(null);
    await p.locator('#ranking li[data-index]').first().waitFor();
    const first = (await api(server.base, '/api/ranking?level=county&limit=1')).items[0];
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await p.keyboard.press('Tab');
      reached = await p.evaluate(() => document.activeElement?.matches('#ranking li[data-index]') ?? false);
    }
    assert.ok(reached, 'Tab never reached a ranking entry');
    assert.equal(await p.evaluate(() => document.activeElement.dataset.code), first.code);
    await p.keyboard.press('Enter');
    await p.locator('#detail h3').filter({ hasText: first.name }).waitFor({ timeout: TIMEOUT });
    await p.keyboard.press('Escape');
    await p.locator('#detail').waitFor({ state: 'hidden' });
    // Chinese control labels and units.
    assert.equal(await p.locator('.maplibregl-ctrl-zoom-in').getAttribute('title'), '放大');
    assert.match(await p.locator('.maplibregl-ctrl-scale').textContent(), /(公里|米)$/);
    await ctx.close();
  });

  it('pinyin "jiudu" finds 九都镇 with its parent; fly-to keeps the unit clear of the panel', async () => {
    const { ctx, p } = await openPage(null);
    const body = await api(server.base, '/api/search?q=jiudu&limit=12');
    const town = body.items.find((i) => i.name === '九都镇');
    assert.ok(town, `jiudu: ${JSON.stringify(body.items.map((i) => i.name))}`);
    assert.ok(town.parent?.name, 'the hit names its parent');
    await p.locator('#search-input').fill('jiudu');
    const li = p.locator('#search-results li[data-index]', { hasText: '九都镇' });
    await li.first().waitFor();
    assert.ok((await li.first().innerText()).includes(town.parent.name), 'the result shows its parent');
    await li.first().dispatchEvent('mousedown');
    await p.locator('#detail h3').filter({ hasText: '九都镇' }).waitFor({ timeout: TIMEOUT });
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    const fit = await p.evaluate((bbox) => {
      const map = window.map;
      const canvas = map.getCanvas().getBoundingClientRect();
      const panel = document.getElementById('detail').getBoundingClientRect();
      const sw = map.project([bbox[0], bbox[1]]);
      const ne = map.project([bbox[2], bbox[3]]);
      return { left: sw.x, bottom: sw.y, right: ne.x, top: ne.y, width: canvas.width, height: canvas.height, panel: panel.left - canvas.left };
    }, town.bbox);
    assert.ok(fit.left >= 0 && fit.top >= 0 && fit.bottom <= fit.height, JSON.stringify(fit));
    assert.ok(fit.right <= fit.panel, `the town reaches under the panel: ${JSON.stringify(fit)}`);
    await ctx.close();
  });

  it('a unit explains itself in one sentence, ranks in words and offers the ledger as Excel', async () => {
    const { ctx, p } = await openPage(PLANNER);
    const top = (await api(server.base, '/api/ranking?level=cell&limit=1')).items[0];
    const full = await api(server.base, `/api/cells/${top.code}`, PLANNER);
    await p.locator('#search-input').fill(top.code);
    await p.locator('#search-results li[data-index]').first().waitFor();
    await p.locator('#search-input').press('Enter');
    await p.locator('#detail [data-explain]').waitFor({ timeout: TIMEOUT });
    const parent = full.parents.at(-1);
    const rank = await p.locator('#detail [data-rank]').textContent();
    assert.equal(rank, `${parent.name} ${full.rank.of} 个网格中第 ${full.rank.position}；全市第 ${full.rank.city_position}（共 ${full.rank.city_of} 个）`);
    // City-wide, the top of the ranking is first.
    assert.equal(full.rank.city_position, 1);
    const sentence = await p.locator('#detail [data-explain]').textContent();
    const [domain] = Object.entries(full.domains).sort((a, b) => b[1] - a[1])[0];
    assert.ok(sentence.startsWith(`${full.name}为`), sentence);
    assert.ok(sentence.includes(`+${full.domains[domain].toFixed(1)} 分`), `${domain} share missing: ${sentence}`);
    assert.ok(sentence.includes(full.top_contributors[0].name), sentence);
    // Plain component names, the formula behind ⓘ.
    const breakdown = await p.locator('#detail [data-breakdown]').innerText();
    assert.ok(!/\b[HECV] /.test(breakdown), breakdown);
    assert.match(await p.locator('#detail details.formula').innerText(), /计算方法/);
    const [download] = await Promise.all([
      p.waitForEvent('download'),
      p.locator('#detail [data-ledger][data-format="xlsx"]').click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`${top.code}\\.xlsx$`));
    const chunks = [];
    for await (const c of await download.createReadStream()) chunks.push(c);
    assert.deepEqual([...Buffer.concat(chunks).subarray(0, 2)], [0x50, 0x4b], 'an XLSX is a ZIP');
    await ctx.close();
  });

  it('prints A3 landscape at 300 dpi with the title given in the dialog', async () => {
    const { ctx, p } = await openPage(PLANNER);
    const title = '泉州市安全风险分布图（测试）';
    await p.locator('#export-btn').click();
    await p.locator('#export-dialog[open]').waitFor();
    await p.locator('#print-paper').selectOption('a3');
    await p.locator('#print-title').fill(title);
    await p.locator('#print-unit').fill('泉州市应急管理局');
    await p.locator('#print-make').click();
    await p.waitForFunction(() => document.getElementById('export-download').dataset.paper === 'a3', null, { timeout: TIMEOUT });
    const png = await p.evaluate(async () => {
      const href = document.getElementById('export-download').href;
      return [...new Uint8Array(await (await fetch(href)).arrayBuffer())];
    });
    const buf = Buffer.from(png);
    assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // A3 is 420 × 297 mm: at 300 dpi 4961 × 3508 pixels.
    assert.deepEqual([buf.readUInt32BE(16), buf.readUInt32BE(20)], [4961, 3508], 'IHDR size');
    // The title is in the PNG's iTXt "Title" chunk, and 300 dpi in pHYs.
    const chunks = {};
    for (let at = 8; at < buf.length;) {
      const len = buf.readUInt32BE(at);
      const type = buf.subarray(at + 4, at + 8).toString('latin1');
      (chunks[type] ??= []).push(buf.subarray(at + 8, at + 8 + len));
      at += 12 + len;
    }
    const texts = (chunks.iTXt ?? []).map((c) => {
      const z = c.indexOf(0);
      const key = c.subarray(0, z).toString('latin1');
      let i = z + 3;
      i = c.indexOf(0, i) + 1; // language tag
      i = c.indexOf(0, i) + 1; // translated keyword
      return [key, c.subarray(i).toString('utf8')];
    });
    assert.deepEqual(texts.find(([k]) => k === 'Title'), ['Title', title]);
    const phys = chunks.pHYs?.[0];
    assert.ok(phys, 'no pHYs chunk');
    assert.equal(Math.round(phys.readUInt32BE(0) * 0.0254), 300);
    // The title band (white on paper) holds the title's dark ink.
    const ink = await p.evaluate(async () => {
      const img = new Image();
      img.src = document.getElementById('export-download').href;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = 2400;
      c.height = 260;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0, 2400, 260, 0, 0, 2400, 260);
      const d = g.getImageData(0, 0, 2400, 260).data;
      let dark = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 250) dark++;
      return dark / (d.length / 4);
    });
    assert.ok(ink > 0.005, `no title text in the title band (${ink})`);
    await ctx.close();
  });

  it('nothing left the machine and no page error was logged', () => {
    assert.deepEqual(errors, []);
  });
});
