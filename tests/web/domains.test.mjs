// The 分系统 view in headless Chromium against the real server on the
// generated demo city: the domain selector recolours the grid units by one
// domain's contribution (values from the tiles, no tile fetched again),
// the legend names the domain and shows its class breaks, 综合风险 brings
// the four risk colours back, and unit cells carry domain values only for
// a signed-in user. Run: node --test tests/web/
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LEVEL_COLOURS, PLANNER, api, launchBrowser, startServer } from './server.mjs';

const TIMEOUT = 120_000;

describe('分系统 view in Chromium', { timeout: 15 * 60_000 }, () => {
  let server;
  let browser;
  let page;
  let domain;
  let topCell;
  const tileRequests = [];
  const consoleErrors = [];

  /** Installs an idle listener; returns a function that waits for it. */
  async function armIdle() {
    await page.evaluate(() => {
      window.__idle = new Promise((resolve) => window.map.once('idle', resolve));
    });
    return async () => {
      await page.evaluate(() => { window.map.triggerRepaint(); return window.__idle; });
      await page.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    };
  }

  /** Runs `action` and waits until the map is idle again. */
  async function settle(action) {
    const idle = await armIdle();
    await action();
    await idle();
  }

  /**
   * The rendered features of a grid level's fill layer: code, risk level,
   * the domain's value (null when absent), every domain_* key, and the
   * fill colour MapLibre evaluated for it (#rrggbb).
   */
  function rendered(layer, d) {
    return page.evaluate(({ layer, d }) => {
      const hex = (c) => {
        if (typeof c === 'string') return c.toLowerCase();
        const h = (x) => Math.round(x * 255).toString(16).padStart(2, '0');
        return `#${h(c.r / (c.a || 1))}${h(c.g / (c.a || 1))}${h(c.b / (c.a || 1))}`;
      };
      return window.map.queryRenderedFeatures({ layers: [`${layer}-fill`] }).map((f) => ({
        code: f.properties.code,
        level: f.properties.risk_level,
        value: f.properties[`domain_${d}`] ?? null,
        domainKeys: Object.keys(f.properties).filter((k) => k.startsWith('domain_')),
        color: hex(f.layer.paint['fill-color']),
      }));
    }, { layer, d });
  }

  /** The legend's classes as the page shows them. */
  function legendClasses() {
    return page.$$eval('#domain-legend li', (lis) => lis.map((li) => ({
      min: Number(li.dataset.min),
      max: li.dataset.max === '' ? Infinity : Number(li.dataset.max),
      color: li.dataset.color.toLowerCase(),
      visible: li.offsetParent !== null,
    })));
  }

  /** Checks that every feature's colour is its value's class colour. */
  function assertFollowsLegend(features, classes, what) {
    assert.ok(features.length > 0, `${what}: nothing rendered`);
    for (const f of features) {
      const v = f.value ?? 0;
      const cls = classes.find((c) => v >= c.min && v < c.max);
      assert.ok(cls, `${what} ${f.code}: ${v} is in no class`);
      assert.equal(f.color, cls.color, `${what} ${f.code}: value ${v}`);
    }
  }

  before(async () => {
    server = await startServer();
    // The domain to show: the largest one of the riskiest cell.
    topCell = (await api(server.base, '/api/ranking?level=cell&limit=1')).items[0];
    topCell.bbox = (await api(server.base, `/api/search?q=${topCell.code}&limit=5`)).items
      .find((i) => i.id === topCell.code).bbox;
    const detail = await api(server.base, `/api/cells/${topCell.code}`, PLANNER);
    domain = Object.entries(detail.domains).sort((a, b) => b[1] - a[1])[0][0];
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    context.on('request', (r) => { if (/\/tiles\/\d+\/\d+\/\d+\.mvt/.test(r.url())) tileRequests.push(r.url()); });
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

  it('selecting a domain recolours the counties by its values, without fetching tiles again', async () => {
    const before = await rendered('counties', domain);
    for (const f of before) assert.equal(f.color, LEVEL_COLOURS[f.level], `${f.code} before`);
    assert.ok(before.some((f) => f.value > 0), `no county has domain_${domain}`);
    assert.equal(await page.locator('#legend-title').textContent(), '风险等级');
    const fetched = tileRequests.length;
    await settle(() => page.selectOption('#domain-select', domain));
    assert.equal(tileRequests.length, fetched, 'switching the domain fetched tiles');
    const label = await page.locator(`#domain-select option[value="${domain}"]`).textContent();
    assert.equal(await page.locator('#legend-title').textContent(), `${label} 贡献分`);
    assert.ok(await page.locator('#domain-legend').isVisible());
    assert.ok(!(await page.locator('#legend-list').isVisible()));
    const classes = await legendClasses();
    assert.ok(classes.length >= 4 && classes.every((c) => c.visible));
    for (let i = 1; i < classes.length; i++) assert.equal(classes[i].min, classes[i - 1].max, 'breaks meet');
    const shown = await page.locator('#domain-legend').innerText();
    for (const c of classes.slice(1)) assert.ok(shown.includes(String(c.min)), `break ${c.min} not shown: ${shown}`);
    const after = await rendered('counties', domain);
    assertFollowsLegend(after, classes, 'county');
    assert.ok(after.some((f) => f.color !== classes[0].color), 'every county drawn as no contribution');
  });

  it('综合风险 restores the four risk colours', async () => {
    await settle(() => page.selectOption('#domain-select', ''));
    assert.equal(await page.locator('#legend-title').textContent(), '风险等级');
    assert.ok(await page.locator('#legend-list').isVisible());
    assert.ok(!(await page.locator('#domain-legend').isVisible()));
    const features = await rendered('counties', domain);
    assert.ok(features.length > 0);
    for (const f of features) assert.equal(f.color, LEVEL_COLOURS[f.level], f.code);
  });

  it('at cell zoom a public user gets no cell domain values, a planner does', async () => {
    const [w, s, e, n] = topCell.bbox;
    await settle(() => page.evaluate((c) => window.map.jumpTo({ center: c, zoom: 14 }), [(w + e) / 2, (s + n) / 2]));
    await settle(() => page.selectOption('#domain-select', domain));
    const classes = await legendClasses();
    const publicCells = await rendered('cells', domain);
    assert.ok(publicCells.length > 0);
    for (const f of publicCells) assert.deepEqual(f.domainKeys, [], `public cell ${f.code}`);
    assertFollowsLegend(publicCells, classes, 'public cell');
    assert.ok(await page.locator('#domain-hint').isVisible(), 'the sign-in hint is shown');

    await page.locator('#signin-btn').click();
    await page.locator('#token-input').fill(PLANNER);
    await settle(async () => {
      await page.locator('#signin-submit').click();
      await page.waitForFunction(() => document.body.classList.contains('is-signed-in'));
    });
    await page.waitForFunction((code) => window.map.queryRenderedFeatures({ layers: ['cells-fill'] })
      .some((f) => f.properties.code === code && Object.keys(f.properties).some((k) => k.startsWith('domain_'))),
    topCell.code, { timeout: TIMEOUT });
    assert.equal(await page.locator('#domain-select').inputValue(), domain, 'the domain stays selected');
    const cells = await rendered('cells', domain);
    const top = cells.find((f) => f.code === topCell.code);
    assert.ok(top?.value > 0, `the top cell shows no domain_${domain}`);
    assertFollowsLegend(cells, classes, 'planner cell');
    assert.ok(!(await page.locator('#domain-hint').isVisible()));
    // The values are the rounded ones of the API.
    const detail = await api(server.base, `/api/cells/${topCell.code}`, PLANNER);
    assert.equal(top.value, Math.round(detail.domains[domain] * 10) / 10);
  });

  it('the exported PNG carries the domain legend', async () => {
    const classes = await legendClasses();
    await page.locator('#export-btn').click();
    await page.locator('#export-dialog[open]').waitFor();
    await page.waitForFunction(() => document.getElementById('export-img').naturalWidth > 0);
    // Legend swatches are opaque rectangles of the class colours; the map's
    // fills are translucent, so those exact colours come from the legend.
    const found = await page.evaluate((colours) => {
      const img = document.getElementById('export-img');
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, c.width, c.height).data;
      const counts = Object.fromEntries(colours.map((h) => [h, 0]));
      for (let i = 0; i < data.length; i += 4) {
        const hex = `#${[data[i], data[i + 1], data[i + 2]].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
        if (hex in counts && data[i + 3] === 255) counts[hex] += 1;
      }
      return counts;
    }, classes.map((c) => c.color));
    for (const c of classes) assert.ok(found[c.color] >= 50, `legend swatch ${c.color}: ${found[c.color]} pixels`);
    await page.locator('#export-close').click();
  });

  it('logged no console error', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
