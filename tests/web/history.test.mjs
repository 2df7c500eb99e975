// The time dimension of the web page in headless Chromium against the
// real server on the generated demo city (issue #22): the panel's 风险走势
// chart against /api/cells/{code}/history, the date slider (tiles with
// ?date=, pixels in that day's level colours), the 分值变化 view against
// its legend and the history, the 月通报 download, phone widths.
// Run the whole file: node --test --test-concurrency=1 tests/web/history.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { LEVEL_COLOURS, PLANNER, api, launchBrowser, startServer } from './server.mjs';

const TIMEOUT = 180_000;
/** The zoom at which only villages fill the map (styles/riskmap.json bands). */
const VILLAGE_ZOOM = 11;

/** `YYYY-MM-DD` plus `n` days. */
const addDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/** The files of a ZIP archive (stored or deflated) by name, read from its central directory. */
function unzip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const files = {};
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50, 'central directory entry');
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + size);
    files[name] = method === 8 ? inflateRawSync(raw) : raw;
    at += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

describe('history on the web page', { timeout: 25 * 60_000 }, () => {
  let server;
  let browser;
  let health;
  const errors = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    health = await api(server.base, '/health');
    assert.ok(health.history, `/health names the history: ${JSON.stringify(health)}`);
  });

  after(async () => {
    await browser?.close();
    server?.stop();
    assert.deepEqual(errors, [], 'no console errors, no page errors, no request outside the server');
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
    await p.locator('#timebar').waitFor({ timeout: TIMEOUT });
    // The grid's translucent fills are drawn over the basemap's land.
    const land = await p.evaluate(() => (window.map.getLayer('basemap-land')
      ? window.map.getPaintProperty('basemap-land', 'fill-color') : null));
    if (typeof land === 'string') BACKGROUND = rgb(land);
    return { ctx, p };
  }

  /** Runs `fn(arg)` in the page and waits until the map is idle again. */
  async function settle(p, fn, arg) {
    await p.evaluate(() => { window.__idle = new Promise((r) => window.map.once('idle', r)); });
    await p.evaluate(fn, arg);
    await p.evaluate(() => { window.map.triggerRepaint(); return window.__idle; });
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  }

  /** Opens the detail panel of grid unit `code` through the search box. */
  async function openUnit(p, code) {
    await p.locator('#search-input').fill(code);
    await p.locator('#search-results li[data-index]').first().waitFor();
    await p.locator('#search-input').press('Enter');
    await p.locator(`#detail [data-trend="${code}"] svg.spark`).waitFor({ timeout: TIMEOUT });
  }

  /** Centres the map on unit `code` at village zoom, only the village fills and the background drawn. */
  async function villageView(p, code) {
    const hit = (await api(server.base, `/api/search?q=${code}&limit=5`)).items.find((i) => i.id === code);
    const [w, s, e, n] = hit.bbox;
    await settle(p, ({ c, z }) => {
      const map = window.map;
      for (const l of map.getStyle().layers) {
        if (l.id !== 'background' && l.id !== 'villages-fill' && !l.id.startsWith('base-')) map.setLayoutProperty(l.id, 'visibility', 'none');
      }
      map.jumpTo({ center: c, zoom: z });
    }, { c: [(w + e) / 2, (s + n) / 2], z: VILLAGE_ZOOM });
  }

  /**
   * Interior pixels of the villages drawn: for points on a grid over the
   * canvas whose neighbourhood (±5 px) lies in one village, the code, the
   * pixel's colour, and the fill opacity MapLibre evaluated there; one
   * sample per village (the first found).
   */
  function villagePixels(p) {
    return p.evaluate(() => {
      const map = window.map;
      const c = map.getCanvas();
      const ratio = c.width / c.clientWidth;
      const t = document.createElement('canvas');
      t.width = c.width;
      t.height = c.height;
      const ctx = t.getContext('2d');
      ctx.drawImage(c, 0, 0);
      const codeAt = (x, y) => map.queryRenderedFeatures([x, y], { layers: ['villages-fill'] })[0];
      const out = new Map();
      for (let y = 20; y < c.clientHeight - 20; y += 24) {
        for (let x = 20; x < c.clientWidth - 20; x += 24) {
          const f = codeAt(x, y);
          if (!f || out.has(f.properties.code)) continue;
          const code = f.properties.code;
          if (![[5, 0], [-5, 0], [0, 5], [0, -5], [4, 4], [-4, -4]].every(([dx, dy]) => codeAt(x + dx, y + dy)?.properties.code === code)) continue;
          const d = ctx.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data;
          out.set(code, { code, x, y, rgb: [d[0], d[1], d[2]], opacity: f.layer.paint['fill-opacity'] });
        }
      }
      return [...out.values()];
    });
  }

  /** The colour beneath the grid: the basemap's land, else the style's background. */
  let BACKGROUND = rgb('#e8ecf0');
  /** `hex` drawn with `opacity` over the background. */
  const blended = (hex, opacity) => rgb(hex).map((v, i) => v * opacity + BACKGROUND[i] * (1 - opacity));
  const distance = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

  it('the panel charts the unit’s last 12 months as the history API gives them, in the level colours', async () => {
    const { ctx, p } = await openPage(PLANNER);
    const village = (await api(server.base, '/api/ranking?level=village&limit=1')).items[0];
    await openUnit(p, village.code);
    const months = (await api(server.base, `/api/cells/${village.code}/history?step=month`)).series.slice(-12);
    assert.equal(months.length, 12, 'the history holds a year');
    const dots = await p.locator(`#detail [data-trend="${village.code}"] svg.spark circle`).evaluateAll((cs) => cs.map((c) => ({
      date: c.dataset.date, score: Number(c.dataset.score), cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')),
      fill: c.getAttribute('fill').toLowerCase(),
    })));
    assert.deepEqual(dots.map((d) => d.date), months.map((m) => m.date));
    assert.deepEqual(dots.map((d) => d.score), months.map((m) => m.risk_score));
    assert.deepEqual(dots.map((d) => d.fill), months.map((m) => LEVEL_COLOURS[m.risk_level]));
    // Drawn where the scores put them: left to right, height linear in the score.
    for (let i = 1; i < dots.length; i++) assert.ok(dots[i].cx > dots[i - 1].cx, 'dates left to right');
    const lo = months.reduce((a, m, i) => (m.risk_score < months[a].risk_score ? i : a), 0);
    const hi = months.reduce((a, m, i) => (m.risk_score > months[a].risk_score ? i : a), 0);
    if (months[hi].risk_score > months[lo].risk_score) {
      const slope = (dots[hi].cy - dots[lo].cy) / (months[hi].risk_score - months[lo].risk_score);
      assert.ok(slope < 0, 'a higher score is drawn higher');
      for (const [i, m] of months.entries()) {
        const expect = dots[lo].cy + slope * (m.risk_score - months[lo].risk_score);
        assert.ok(Math.abs(dots[i].cy - expect) < 0.02, `${m.date}: y ${dots[i].cy} vs ${expect}`);
      }
    } else {
      assert.ok(dots.every((d) => Math.abs(d.cy - dots[0].cy) < 0.02), 'equal scores at equal height');
    }
    // The change against last month, with its arrow.
    const change = Math.round((months[11].risk_score - months[10].risk_score) * 10) / 10;
    const text = await p.locator(`#detail [data-trend="${village.code}"] .trend-change`).textContent();
    const want = change > 0 ? `较上月 ↑ ${change.toFixed(1)}` : change < 0 ? `较上月 ↓ ${Math.abs(change).toFixed(1)}` : '较上月 持平';
    assert.equal(text, want);
    // 近90天 (keyboard): the last 90 days, day by day.
    await p.locator('#detail [data-span="days"]').focus();
    await p.keyboard.press('Enter');
    await p.locator('#detail [data-chart="days"] circle').first().waitFor();
    const days = (await api(server.base, `/api/cells/${village.code}/history`)).series.slice(-90);
    const shown = await p.locator('#detail [data-chart="days"] circle').evaluateAll((cs) => cs.map((c) => [c.dataset.date, Number(c.dataset.score)]));
    assert.deepEqual(shown, days.map((d) => [d.date, d.risk_score]));
    await ctx.close();
  });

  it('the date slider requests the tiles of that day and draws a unit in that day’s level colour', async () => {
    const { ctx, p } = await openPage(null);
    const asOf = health.history.last;
    // A village whose level on some past day differs from today's: among
    // those whose score moved most over the year, the latest such day.
    const first = health.history.first;
    const moved = (await api(server.base, `/api/ranking?level=village&by=change&from=${addDays(first, 1)}&to=${asOf}&limit=20`)).items;
    let pick = null;
    for (const v of moved) {
      const series = (await api(server.base, `/api/cells/${v.code}/history`)).series;
      const now = series.at(-1);
      const then = series.findLast((p) => p.risk_level !== now.risk_level);
      if (then) { pick = { code: v.code, day: then.date, back: Math.round((Date.parse(asOf) - Date.parse(then.date)) / 86_400_000), then, now }; break; }
    }
    assert.ok(pick, 'some village changed its level during the year');
    await villageView(p, pick.code);
    const today = (await villagePixels(p)).find((s) => s.code === pick.code);
    assert.ok(today, `${pick.code} drawn with an interior`);
    assert.ok(distance(today.rgb, blended(LEVEL_COLOURS[pick.now.risk_level], today.opacity)) <= 6,
      `today ${JSON.stringify(today)} vs ${pick.now.risk_level}`);

    const tiles = [];
    ctx.on('request', (r) => { if (/\/tiles\/\d+\/\d+\/\d+\.mvt/.test(r.url())) tiles.push(r.url()); });
    // Drag the slider to the day (input events while dragging, change on release).
    await settle(p, (offset) => {
      const s = document.getElementById('time-slider');
      s.value = String(offset);
      s.dispatchEvent(new Event('input', { bubbles: true }));
      s.dispatchEvent(new Event('change', { bubbles: true }));
    }, -pick.back);
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    assert.equal(await p.locator('#time-label').textContent(), `历史 ${pick.day}`);
    assert.ok(await p.locator('#time-today').isVisible(), '回到今日 shows');
    assert.ok(tiles.length > 0, 'tiles requested again');
    for (const u of tiles) assert.equal(new URL(u).searchParams.get('date'), pick.day, u);
    const then = (await villagePixels(p)).find((s) => s.code === pick.code);
    assert.ok(then, `${pick.code} drawn on ${pick.day}`);
    assert.ok(distance(then.rgb, blended(LEVEL_COLOURS[pick.then.risk_level], then.opacity)) <= 6,
      `${pick.day}: ${JSON.stringify(then)} vs ${pick.then.risk_level} (today ${pick.now.risk_level})`);
    assert.ok(distance(then.rgb, today.rgb) > 20, 'the unit’s pixels changed');

    // Back to today with the keyboard, then one day back with an arrow key.
    tiles.length = 0;
    await p.locator('#time-today').focus();
    await p.keyboard.press('Enter');
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true' && !document.body.classList.contains('is-history'), null, { timeout: TIMEOUT });
    assert.equal(await p.locator('#time-label').textContent(), `今日 ${asOf}`);
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    for (const u of tiles) assert.equal(new URL(u).searchParams.get('date'), null, u);
    // The unit is drawn in today's colour again (waited for: the reload of
    // the tiles may start a frame after the map last reported idle).
    let back = null;
    for (let i = 0; i < 50; i++) {
      back = (await villagePixels(p)).find((s) => s.code === pick.code);
      if (back && distance(back.rgb, today.rgb) <= 6) break;
      await p.waitForTimeout(200);
    }
    assert.ok(back && distance(back.rgb, today.rgb) <= 6, `today’s colours again: ${JSON.stringify(back)} vs ${JSON.stringify(today)}`);
    await p.locator('#time-slider').focus();
    await p.keyboard.press('ArrowLeft');
    await p.waitForFunction((d) => document.getElementById('time-label').textContent === `历史 ${d}`, addDays(asOf, -1), { timeout: TIMEOUT });
    await ctx.close();
  });

  it('the 分值变化 view colours each unit by its change over the period, as its legend says', async (t) => {
    const { ctx, p } = await openPage(null);
    const asOf = health.history.last;
    const village = (await api(server.base, '/api/ranking?level=village&limit=1')).items[0];
    await villageView(p, village.code);
    await settle(p, () => document.querySelector('#view-switch [data-view="change"]').click());
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    assert.equal(await p.locator('#legend-title').textContent(), '风险分值变化');
    assert.ok(await p.locator('#change-legend').isVisible());
    assert.ok(!(await p.locator('#legend-list').isVisible()), 'the level legend gives way');
    const period = Number(await p.locator('#change-period').inputValue());
    const from = addDays(asOf, -period);
    assert.equal(await p.locator('#change-caption').textContent(), `${from} → ${asOf} 风险分值的变化（后者减前者）`);
    const rows = await p.locator('#change-legend li[data-min]').evaluateAll((ls) => ls.map((l) => ({
      min: l.dataset.min === '' ? -Infinity : Number(l.dataset.min),
      max: l.dataset.max === '' ? Infinity : Number(l.dataset.max),
      color: l.dataset.color,
    })));
    assert.equal(rows.length, 9, 'a diverging legend of nine classes');
    const samples = (await villagePixels(p)).slice(0, 12);
    assert.ok(samples.length >= 3, `villages drawn: ${samples.length}`);
    const classes = new Set();
    for (const s of samples) {
      const h = await api(server.base, `/api/cells/${s.code}/history?from=${from}&to=${asOf}`);
      const delta = Math.round((h.series.at(-1).risk_score - h.series[0].risk_score) * 10) / 10;
      const row = rows.find((r) => delta >= r.min && delta < r.max);
      classes.add(row.color);
      const want = blended(row.color, s.opacity);
      const nearest = rows.reduce((a, r) => (distance(s.rgb, blended(r.color, s.opacity)) < distance(s.rgb, blended(a.color, s.opacity)) ? r : a));
      assert.equal(nearest.color, row.color, `${s.code}: change ${delta} → ${row.color}, pixel ${s.rgb}`);
      assert.ok(distance(s.rgb, want) <= 6, `${s.code}: pixel ${s.rgb} vs ${want}`);
    }
    t.diagnostic(`${samples.length} villages checked, ${classes.size} classes of change`);
    // Back to the risk levels: the four colours return.
    await settle(p, () => document.querySelector('#view-switch [data-view="level"]').click());
    assert.equal(await p.locator('#legend-title').textContent(), '风险等级');
    const again = (await villagePixels(p)).find((s) => s.code === samples[0].code);
    const level = (await api(server.base, `/api/cells/${samples[0].code}/history?from=${asOf}&to=${asOf}`)).series[0].risk_level;
    assert.ok(distance(again.rgb, blended(LEVEL_COLOURS[level], again.opacity)) <= 6, 'level colours back');
    await ctx.close();
  });

  it('下载月通报 saves the unit’s monthly report as an XLSX that names the unit', async () => {
    const { ctx, p } = await openPage(PLANNER);
    const village = (await api(server.base, '/api/ranking?level=village&limit=1')).items[0];
    await openUnit(p, village.code);
    const month = await p.locator('#detail [data-report-month]').inputValue();
    assert.equal(month, health.history.last.slice(0, 7), 'this month by default');
    const [download] = await Promise.all([
      p.waitForEvent('download'),
      p.locator('#detail [data-report]').click(),
    ]);
    assert.equal(download.suggestedFilename(), `安全风险月通报_${village.name}_${month}.xlsx`);
    const chunks = [];
    for await (const c of await download.createReadStream()) chunks.push(c);
    const xlsx = Buffer.concat(chunks);
    assert.deepEqual([...xlsx.subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04], 'a ZIP local file header');
    const files = unzip(xlsx);
    assert.ok(files['xl/workbook.xml'], `an XLSX: ${Object.keys(files)}`);
    const text = Object.entries(files).filter(([n]) => n.endsWith('.xml')).map(([, b]) => b.toString('utf8')).join('\n');
    assert.ok(text.includes(village.name), `the workbook names ${village.name}`);
    assert.ok(text.includes(month), `the workbook names ${month}`);
    await ctx.close();
  });

  it('on a phone the time bar fits the screen and the panel still shows the chart', async () => {
    const { ctx, p } = await openPage(null, { viewport: { width: 390, height: 844 } });
    const box = await p.locator('#timebar').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844, JSON.stringify(box));
    const slider = await p.locator('#time-slider').boundingBox();
    assert.ok(slider.width >= 200, `the slider is usable: ${JSON.stringify(slider)}`);
    const village = (await api(server.base, '/api/ranking?level=village&limit=1')).items[0];
    await openUnit(p, village.code);
    const chart = await p.locator('#detail svg.spark').boundingBox();
    assert.ok(chart.width > 250 && chart.x >= 0 && chart.x + chart.width <= 390, JSON.stringify(chart));
    await ctx.close();
  });
});
