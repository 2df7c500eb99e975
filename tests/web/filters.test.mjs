// The 筛选 card (web/js/filters.js): enterprises by industry and risk
// grade, hazard sources by grade, 只看重大, applied by the server through
// the tile URLs. What the map should draw comes from the OGC API (another
// path through the server than the tiles): the enterprises and hazard
// sources of a box with the same properties. Real server on the
// generated demo city, real Chromium.
// Run: node --test --test-concurrency=1 tests/web/filters.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INDUSTRY_ZH } from '../../web/js/levels.js';
import { PLANNER, api, launchBrowser, startServer } from './server.mjs';

const TIMEOUT = 180_000;
const SOURCE = 'riskmap';

/**
 * The densest tiles of the demo city (preset quanzhou, seed 42): z12
 * 3397/1756 holds about 4,200 enterprises (2,500 of grade 低, so those
 * alone are still clustered), z13 6794/3512 about 2,000 (clustered
 * without a filter), z14 13589/7025 about 870 (never clustered).
 */
const DENSE = { z12: [12, 3397, 1756], z13: [13, 6794, 3512], z14: [14, 13589, 7025] };

/** `[west, south, east, north]` of tile `z/x/y` grown by `buffer` of its 4096 units. */
function tileBounds([z, x, y], buffer = 0) {
  const n = 2 ** z;
  const b = buffer / 4096;
  const lon = (tx) => (tx / n) * 360 - 180;
  const lat = (ty) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * ty) / n))) * 180) / Math.PI;
  return [lon(x - b), lat(y + 1 + b), lon(x + 1 + b), lat(y - b)];
}

/** The centre of a tile, [lon, lat] (the Mercator middle). */
function tileCentre([z, x, y]) {
  const [w, , e, n] = tileBounds([z + 1, 2 * x + 1, 2 * y + 1]);
  return [tileBounds([z, x, y])[0] + (e - w), n];
}

describe('筛选 on the web map', { timeout: 25 * 60_000 }, () => {
  let server;
  let browser;
  let health;
  const errors = [];
  /** Answers of 400 and above: which request a logged error was. */
  const refused = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    health = await api(server.base, '/health');
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  /** A page of its own, signed in with `token` (if any), map idle; tile requests in `tiles`. */
  async function openPage(token) {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    await ctx.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.continue();
      errors.push(`blocked ${url.href}`);
      return route.abort();
    });
    if (token) await ctx.addInitScript((t) => sessionStorage.setItem('riskmap.token', t), token);
    const p = await ctx.newPage();
    const tiles = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    p.on('request', (r) => { if (/\/tiles\/\d+\/\d+\/\d+\.mvt/.test(r.url())) tiles.push(r.url()); });
    p.on('response', (r) => { if (r.status() >= 400) refused.push(`${r.status()} ${r.request().method()} ${r.url()} (${r.request().headers().authorization ? 'token' : 'no token'})`); });
    await p.goto(`${server.base}/`);
    await p.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    return { ctx, p, tiles };
  }

  /** Runs `fn(arg)` in the page (a map move) and waits until the map is idle again. */
  async function moveTo(p, fn, arg) {
    await p.evaluate(() => { window.__idle = new Promise((r) => window.map.once('idle', r)); });
    await p.evaluate(fn, arg);
    await p.evaluate(() => { window.map.triggerRepaint(); return window.__idle; });
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  }

  /** Waits until the map is idle, then until `check()` (node side) returns true; fails with `what`. */
  async function until(p, check, what) {
    let last;
    for (let i = 0; i < 200; i++) {
      await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
      last = await check();
      if (last === true) return;
      await p.waitForTimeout(250);
    }
    assert.fail(`${what}: ${typeof last === 'string' ? last : JSON.stringify(last)}`);
  }

  /**
   * The enterprise points, clusters and hazard sources drawn in the view:
   * points as [id, { industry, grade, at }] (those drawn twice, from a
   * tile's buffer, once), clusters as { n, max }.
   */
  function drawn(p) {
    return p.evaluate(() => {
      const map = window.map;
      const points = new Map();
      const hazards = new Map();
      const clusters = [];
      for (const f of map.queryRenderedFeatures({ layers: ['enterprises-point', 'enterprises-cluster', 'hazard-sources-symbol'] })) {
        const q = f.properties;
        if (f.layer.id === 'enterprises-cluster') clusters.push({ n: q.point_count, max: q.max_risk_grade });
        else if (f.layer.id === 'enterprises-point') points.set(q.id, { industry: q.industry, grade: q.risk_grade, at: f.geometry.coordinates });
        else hazards.set(q.id, { grade: q.grade, at: f.geometry.coordinates });
      }
      return { points: [...points], hazards: [...hazards], clusters, template: map.getSource('riskmap').tiles[0] };
    });
  }

  /** The view's box, shrunk by a tenth of its size on each side: [w, s, e, n]. */
  function innerBox(p) {
    return p.evaluate(() => {
      const b = window.map.getBounds();
      const dx = (b.getEast() - b.getWest()) / 10;
      const dy = (b.getNorth() - b.getSouth()) / 10;
      return [b.getWest() + dx, b.getSouth() + dy, b.getEast() - dx, b.getNorth() - dy];
    });
  }

  /** Ids of the `collection` features in `box` with the equality filters `where` (OGC API, planner). */
  async function ogcIds(collection, box, where = {}) {
    const q = new URLSearchParams({ bbox: box.join(','), limit: '10000', ...where });
    const body = await api(server.base, `/ogc/collections/${collection}/items?${q}`, PLANNER);
    assert.ok(body.features.length < 10_000, 'one page holds them all');
    return body.features.map((f) => [f.properties.id, f.geometry.coordinates]);
  }

  /**
   * Ids at positions in `box` and not within `eps` degrees of its edges
   * (tile coordinates are rounded to the tile grid), sorted.
   */
  function idsIn(box, entries, eps = 2e-5) {
    const [w, s, e, n] = box;
    return entries.filter(([, at]) => {
      const [x, y] = Array.isArray(at) ? at : at.at;
      return x > w + eps && x < e - eps && y > s + eps && y < n - eps;
    }).map(([id]) => id).sort();
  }

  /** The status line of the card. */
  const status = (p) => p.locator('#filter-status').textContent();

  it('is shown only when signed in, in Chinese, and works from the keyboard', async () => {
    const { ctx, p } = await openPage(null);
    assert.ok(await p.locator('#filter-card').isHidden(), 'no 筛选 card without a token');
    await p.locator('#signin-btn').click();
    await p.locator('#token-input').fill(PLANNER);
    await p.keyboard.press('Enter');
    await p.locator('#filter-card').waitFor({ state: 'visible' });
    // Right after the 图层 card.
    const order = await p.evaluate(() => [...document.querySelectorAll('#sidebar > .card')].map((c) => c.id || c.getAttribute('aria-labelledby')));
    assert.equal(order[order.indexOf('layers-title') + 1], 'filter-card', order.join());
    assert.deepEqual(await p.locator('#filter-industry option').allTextContents(), ['全部行业', ...Object.values(INDUSTRY_ZH)]);
    assert.deepEqual(await p.locator('#filter-grades label').allTextContents(), ['重大', '较大', '一般', '低']);
    assert.deepEqual(await p.locator('#filter-hazard label').allTextContents(), ['一级', '二级', '三级', '四级']);
    assert.equal(await status(p), '未筛选：显示全部生产经营单位和重大危险源。');
    assert.ok(await p.locator('#filter-clear').isDisabled());

    // Keyboard: the industry with the arrow keys, Tab to 重大, Space ticks it.
    await p.locator('#filter-industry').focus();
    await p.keyboard.press('ArrowDown');
    assert.equal(await p.locator('#filter-industry').inputValue(), 'hazardous_chemicals');
    await p.keyboard.press('Tab');
    assert.equal(await p.evaluate(() => document.activeElement.value), 'major');
    await p.keyboard.press('Space');
    assert.equal(await status(p), '筛选中：危险化学品 · 重大');
    assert.equal(await p.locator('#filter-major').isChecked(), false, '只看重大 also needs 一级 hazard sources');
    await p.locator('#filter-major').focus();
    await p.keyboard.press('Space');
    assert.equal(await status(p), '筛选中：危险化学品 · 重大 · 一级危险源');
    assert.ok(await p.locator('#filter-hazard input[value="1"]').isChecked());
    await p.keyboard.press('Tab');
    assert.equal(await p.evaluate(() => document.activeElement.id), 'filter-clear');
    await p.keyboard.press('Enter');
    assert.equal(await status(p), '未筛选：显示全部生产经营单位和重大危险源。');
    assert.equal(await p.locator('#filter-industry').inputValue(), '');

    // Signing out hides the card and drops the filter from the tiles
    // (once the signed-in page has its lists: none is still loading).
    await p.waitForFunction(() => /共 \d+ 条/.test(document.getElementById('hd-count')?.textContent ?? ''), null, { timeout: TIMEOUT });
    await p.locator('#al-card').waitFor({ state: 'visible' });
    await p.locator('#filter-major').check();
    await p.waitForFunction(() => /risk_level=major/.test(window.map.getSource('riskmap').tiles?.[0] ?? ''), null, { timeout: TIMEOUT });
    await p.locator('#signout-btn').click();
    await p.locator('#filter-card').waitFor({ state: 'hidden' });
    await p.waitForFunction(() => !/[?&](industry|risk_level|hazard_grade)=/.test(window.map.getSource('riskmap').tiles?.[0] ?? ''), null, { timeout: TIMEOUT });
    assert.equal(await p.locator('#filter-major').isChecked(), false);
    await ctx.close();
  });

  it('an industry and 只看重大 keep exactly the matching points (z14), and 清除筛选 restores them', async (t) => {
    const { ctx, p, tiles } = await openPage(PLANNER);
    await moveTo(p, (c) => window.map.jumpTo({ center: c, zoom: 14.2 }), tileCentre(DENSE.z14));
    let box = await innerBox(p);
    const all = await drawn(p);
    assert.equal(all.clusters.length, 0, 'z14 tiles are not clustered');
    const everyone = await ogcIds('enterprises', box);
    assert.ok(everyone.length > 100, `${everyone.length} enterprises in the view`);
    assert.deepEqual(idsIn(box, all.points), idsIn(box, everyone), 'the unfiltered map draws every enterprise');
    const allHazards = await ogcIds('hazard_sources', box);

    /** Waits until the map draws exactly the OGC answer for `where` (and `hazardWhere`). */
    const shows = async (where, hazardWhere, what) => {
      const want = idsIn(box, await ogcIds('enterprises', box, where));
      const wantHazards = idsIn(box, await ogcIds('hazard_sources', box, hazardWhere));
      let seen;
      await until(p, async () => {
        seen = await drawn(p);
        const got = idsIn(box, seen.points);
        const gotHazards = idsIn(box, seen.hazards);
        if (JSON.stringify(got) !== JSON.stringify(want)) return `${got.length} points drawn, ${want.length} wanted`;
        if (JSON.stringify(gotHazards) !== JSON.stringify(wantHazards)) return `hazards ${gotHazards} vs ${wantHazards}`;
        return true;
      }, what);
      t.diagnostic(`${what}: ${want.length} enterprises, ${wantHazards.length} hazard sources in the view`);
      return { seen, want };
    };

    await p.locator('#filter-industry').selectOption('hazardous_chemicals');
    let { seen, want } = await shows({ industry: 'hazardous_chemicals' }, {}, '危险化学品');
    assert.ok(want.length > 0);
    for (const [id, f] of seen.points) assert.equal(f.industry, 'hazardous_chemicals', id);
    assert.equal(await status(p), '筛选中：危险化学品');
    assert.match(seen.template, /\?industry=hazardous_chemicals$/);
    assert.ok(tiles.some((u) => new URL(u).searchParams.get('industry') === 'hazardous_chemicals'), 'filtered tiles requested');

    await p.locator('#filter-major').check();
    ({ seen } = await shows({ industry: 'hazardous_chemicals', risk_grade: 'major' }, { grade: '1' }, '危险化学品 · 只看重大'));
    for (const [id, f] of seen.points) assert.deepEqual([f.industry, f.grade], ['hazardous_chemicals', 'major'], id);
    for (const [id, h] of seen.hazards) assert.equal(h.grade, 1, id);

    await p.locator('#filter-industry').selectOption('');
    ({ seen, want } = await shows({ risk_grade: 'major' }, { grade: '1' }, '只看重大'));
    assert.ok(want.length > 0, 'the view holds major-risk enterprises');
    assert.equal(await status(p), '筛选中：重大 · 一级危险源');
    for (const [id, f] of seen.points) assert.equal(f.grade, 'major', id);

    // Two grades: a union within the dimension.
    await p.locator('#filter-major').uncheck();
    await p.locator('#filter-grades input[value="high"]').check();
    await p.locator('#filter-grades input[value="major"]').check();
    // The OGC equality takes one value: the union of two answers.
    const high = await ogcIds('enterprises', box, { risk_grade: 'high' });
    const major = await ogcIds('enterprises', box, { risk_grade: 'major' });
    const union = idsIn(box, [...high, ...major]);
    await until(p, async () => {
      const got = idsIn(box, (await drawn(p)).points);
      return JSON.stringify(got) === JSON.stringify(union) || `${got.length} points drawn, ${union.length} wanted`;
    }, '重大/较大');
    assert.equal(await status(p), '筛选中：重大/较大');

    await p.locator('#filter-clear').click();
    ({ seen } = await shows({}, {}, '清除筛选'));
    assert.deepEqual(idsIn(box, seen.points), idsIn(box, all.points));
    assert.deepEqual(idsIn(box, seen.hazards), idsIn(box, allHazards));
    assert.doesNotMatch(seen.template, /[?&](industry|risk_level|hazard_grade)=/);
    assert.equal(await status(p), '未筛选：显示全部生产经营单位和重大危险源。');

    // z13, where the densest tile is clustered without a filter: 只看重大
    // draws each major-risk enterprise as itself.
    await moveTo(p, (c) => window.map.jumpTo({ center: c, zoom: 13.3 }), tileCentre(DENSE.z13));
    box = await innerBox(p);
    assert.ok((await drawn(p)).clusters.length > 0, 'clustered without a filter at z13');
    await p.locator('#filter-major').check();
    ({ seen, want } = await shows({ risk_grade: 'major' }, { grade: '1' }, '只看重大 at z13'));
    assert.ok(want.length > 0);
    assert.deepEqual(seen.clusters, []);
    await ctx.close();
  });

  it('clusters count only the enterprises kept (z12), with the date and in the print', async (t) => {
    const { ctx, p, tiles } = await openPage(PLANNER);
    await moveTo(p, (c) => window.map.jumpTo({ center: c, zoom: 12.3 }), tileCentre(DENSE.z12));
    /** The features of the dense z12 tile as loaded: points and clusters, each once. */
    const tileFeatures = () => p.evaluate(([z, x, y]) => {
      const seen = new Map();
      for (const f of window.map.querySourceFeatures('riskmap', { sourceLayer: 'enterprises' })) {
        if (f._z !== z || f._x !== x || f._y !== y) continue;
        const q = f.properties;
        const key = `${q.id ?? ''}/${q.point_count ?? 1}/${JSON.stringify(f.geometry.coordinates)}`;
        seen.set(key, q.point_count ? { n: q.point_count, max: q.max_risk_grade } : { n: 1, id: q.id, grade: q.risk_grade });
      }
      return [...seen.values()];
    }, DENSE.z12);
    const plain = await tileFeatures();
    assert.ok(plain.some((f) => f.max), 'the dense z12 tile is clustered without a filter');
    const buffered = tileBounds(DENSE.z12, 64);

    /** Waits until the tile's features add up to the OGC count of `where` in the buffered tile, with `grades` only. */
    const adds = async (where, grades, what) => {
      const want = (await ogcIds('enterprises', buffered, where)).length;
      let feats;
      await until(p, async () => {
        feats = await tileFeatures();
        const total = feats.reduce((a, f) => a + f.n, 0);
        const wrong = feats.find((f) => !grades.includes(f.max ?? f.grade));
        if (wrong) return `outside the filter: ${JSON.stringify(wrong)}`;
        return total === want || `${total} drawn, ${want} wanted`;
      }, what);
      for (const f of feats.filter((x) => x.max)) assert.ok(f.n >= 2, JSON.stringify(f));
      t.diagnostic(`${what}: ${want} enterprises in ${feats.filter((f) => f.max).length} clusters and ${feats.filter((f) => !f.max).length} points`);
      return feats;
    };

    await p.locator('#filter-grades input[value="low"]').check();
    const low = await adds({ risk_grade: 'low' }, ['low'], '低');
    assert.ok(low.some((f) => f.max), 'grade 低 alone is still clustered in this tile');

    await p.locator('#filter-major').check();
    const major = await adds({ risk_grade: 'major' }, ['major'], '只看重大');
    assert.ok(major.length > 0);
    // Drawn on the map: only major-risk points and clusters.
    await until(p, async () => {
      const d = await drawn(p);
      return (d.points.length > 0 && d.points.every(([, f]) => f.grade === 'major') && d.clusters.every((c) => c.max === 'major'))
        || `${d.points.length} points, grades ${[...new Set(d.points.map(([, f]) => f.grade))]}`;
    }, '只看重大 drawn');

    // Hazard sources: only grade 一级, around one of them.
    const [first] = await api(server.base, '/ogc/collections/hazard_sources/items?grade=1&limit=1', PLANNER)
      .then((b) => b.features.map((f) => f.geometry.coordinates));
    await moveTo(p, (c) => window.map.jumpTo({ center: c, zoom: 10.5 }), first);
    const view = await innerBox(p);
    const grade1 = idsIn(view, await ogcIds('hazard_sources', view, { grade: '1' }));
    assert.ok(grade1.length > 0);
    await until(p, async () => {
      const got = idsIn(view, (await drawn(p)).hazards);
      return JSON.stringify(got) === JSON.stringify(grade1) || `hazard sources ${got} vs ${grade1}`;
    }, '一级 hazard sources');
    const everyHazard = idsIn(view, await ogcIds('hazard_sources', view));
    t.diagnostic(`一级: ${grade1.length} of the ${everyHazard.length} hazard sources in the view`);
    await moveTo(p, (c) => window.map.jumpTo({ center: c, zoom: 12.3 }), tileCentre(DENSE.z12));

    // The filter and a past day on the same tiles.
    if (health.history) {
      const day = health.history.first < health.history.last ? health.history.first : null;
      if (day) {
        tiles.length = 0;
        await p.evaluate((d) => {
          const picker = document.getElementById('time-date');
          picker.value = d;
          picker.dispatchEvent(new Event('change', { bubbles: true }));
        }, day);
        await p.waitForFunction((d) => document.body.dataset.mapDate === d, day, { timeout: TIMEOUT });
        await adds({ risk_grade: 'major' }, ['major'], `只看重大 on ${day}`);
        assert.ok(tiles.length > 0, 'tiles requested for the day');
        for (const u of tiles) {
          const q = new URL(u).searchParams;
          assert.equal(q.get('date'), day, u);
          assert.equal(q.get('risk_level'), 'major', u);
          assert.equal(q.get('hazard_grade'), '1', u);
        }
        await p.locator('#time-today').click();
        await p.waitForFunction(() => !document.body.classList.contains('is-history'), null, { timeout: TIMEOUT });
      }
    }

    // The print redraws the map from the filtered tiles; the page names the filter.
    assert.equal(await p.locator('#filter-card').getAttribute('data-summary'), '重大 · 一级危险源');
    tiles.length = 0;
    await p.locator('#export-btn').click();
    await p.locator('#export-dialog[open]').waitFor();
    await p.locator('#print-paper').selectOption('a4');
    await p.locator('#print-make').click();
    await p.waitForFunction(() => document.getElementById('export-download').dataset.paper === 'a4', null, { timeout: TIMEOUT });
    assert.ok(tiles.length > 0, 'the print requested its tiles');
    for (const u of tiles) assert.equal(new URL(u).searchParams.get('risk_level'), 'major', u);
    await p.locator('#export-close').click();
    await ctx.close();
  });

  it('logged no console error', () => {
    assert.deepEqual(errors, [], refused.join('\n'));
  });
});
