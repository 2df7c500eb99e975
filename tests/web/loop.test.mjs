// The 隐患 closure loop in two browsers against the real server: a planner
// reports a danger through the form by tapping the map inside the grid
// manager's scope; the grid manager's page shows it in its 隐患 list and
// its open cell panel shows the new score without a reload (/api/events);
// the grid manager starts (through a 412 and a 409) and rectifies; the
// planner closes. And the form at phone size. Run: node --test tests/web/
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PLANNER, api, launchBrowser, startServer } from './server.mjs';

const GRID_MANAGER = 'demo-grid-5c8e17a4';
const GRID_SCOPE = '350502001001';
const TIMEOUT = 120_000;
/** How long a change may take to reach the other browser. */
const LIVE = 10_000;

/** A date `days` after today in Asia/Shanghai, YYYY-MM-DD. */
function dayAfter(days) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  return new Date(Date.parse(`${today}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

describe('the 隐患 loop in two browsers', { timeout: 15 * 60_000 }, () => {
  let server;
  let browser;
  const contexts = [];
  const consoleErrors = [];
  const blocked = [];
  let cell;
  let a;
  let b;
  let id;
  /** When A's report was answered (ms since the epoch). */
  let reportedAt;

  /** A page limited to 127.0.0.1, signed in with `token` (if any), map idle. */
  async function openPage(name, token, options = {}) {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', ...options });
    contexts.push(ctx);
    await ctx.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.fallback();
      blocked.push(url.href);
      return route.abort();
    });
    if (token) await ctx.addInitScript((t) => sessionStorage.setItem('riskmap.token', t), token);
    const p = await ctx.newPage();
    p.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${name}: ${m.text()}`); });
    p.on('pageerror', (e) => consoleErrors.push(`${name}: ${e}`));
    await p.goto(`${server.base}/`);
    await p.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
    if (token) await p.locator('#hd-card').waitFor({ state: 'visible', timeout: TIMEOUT });
    return p;
  }

  /** Fits the map of `p` to `bbox` and waits until it is idle. */
  async function fit(p, bbox, padding = 120) {
    await p.evaluate(({ bbox, padding }) => new Promise((resolve) => {
      window.map.once('idle', resolve);
      window.map.fitBounds(bbox, { padding, maxZoom: 16, duration: 0 });
      window.map.triggerRepaint();
    }), { bbox, padding });
    await p.waitForFunction(() => document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT });
  }

  /** A pixel of `p`'s map inside cell `code`, away from every point symbol. */
  function pixelIn(p, code) {
    return p.evaluate((code) => {
      const map = window.map;
      const c = map.getCanvas();
      const w = c.clientWidth;
      const h = c.clientHeight;
      const others = ['enterprises-point', 'enterprises-cluster', 'hazard-sources-symbol', 'collapse-zones-fill',
        'hidden-dangers-point'].filter((l) => map.getLayer(l));
      const found = [];
      for (let y = 20; y < h - 20; y += 7) {
        for (let x = 20; x < w - 20; x += 7) {
          const hit = map.queryRenderedFeatures([x, y], { layers: ['cells-fill'] })[0];
          if (hit?.properties.code !== code) continue;
          if (map.queryRenderedFeatures([[x - 10, y - 10], [x + 10, y + 10]], { layers: others }).length) continue;
          found.push({ x, y, d: (x - w / 2) ** 2 + (y - h / 2) ** 2 });
        }
      }
      found.sort((q, r) => q.d - r.d);
      return found[0] ?? null;
    }, code);
  }

  async function clickMap(p, pt) {
    const box = await p.locator('#map canvas').boundingBox();
    await p.mouse.click(box.x + pt.x, box.y + pt.y);
  }

  /** The score the rendered tiles of `p` give cell `code` (null if not drawn). */
  function tileScore(p, code) {
    return p.evaluate((code) => {
      const f = window.map.queryRenderedFeatures({ layers: ['cells-fill'] }).find((x) => x.properties.code === code);
      return f ? Number(f.properties.risk_score).toFixed(1) : null;
    }, code);
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    // A cell of the grid manager's village, and where it is.
    const village = await api(server.base, `/api/cells/${GRID_SCOPE}`, PLANNER);
    const code = village.children[0].code;
    const found = (await api(server.base, `/api/search?q=${code}&limit=5`)).items.find((i) => i.id === code);
    cell = { code, bbox: found.bbox };
    a = await openPage('planner', PLANNER);
    b = await openPage('grid manager', GRID_MANAGER);
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    server?.stop();
  });

  it('the 隐患 panel shows the signed-in scope and the live stream is open', async () => {
    assert.match(await b.locator('#hd-scope').textContent(), new RegExp(`网格员.*${GRID_SCOPE}`));
    assert.match(await a.locator('#hd-scope').textContent(), /全市/);
    for (const p of [a, b]) await p.waitForFunction(() => document.body.dataset.live === 'true', null, { timeout: TIMEOUT });
    // The grid manager lists only dangers inside its scope.
    const cells = await b.locator('#hd-list li[data-hd]').evaluateAll((lis) => lis.map((li) => li.dataset.hd));
    const inScope = await api(server.base, `/api/hidden-dangers?within=${GRID_SCOPE}&status=reported,rectifying,rectified&limit=100`, PLANNER);
    assert.deepEqual(cells.sort(), inScope.features.map((f) => f.properties.id).sort());
  });

  let before0;
  it('B opens the cell panel', async () => {
    await fit(b, cell.bbox);
    const pt = await pixelIn(b, cell.code);
    assert.ok(pt, 'no free pixel in the cell on page B');
    await clickMap(b, pt);
    await b.locator('#detail [data-breakdown]').waitFor({ timeout: TIMEOUT });
    await b.locator(`#detail [data-unit-dangers="${cell.code}"] h4`).waitFor();
    before0 = await api(server.base, `/api/cells/${cell.code}`, PLANNER);
    assert.equal(await b.locator('#detail .score[data-score]').getAttribute('data-score'), before0.risk_score.toFixed(1));
  });

  it('A reports a major danger by tapping the map; a missing deadline is named next to its field', async () => {
    await fit(a, cell.bbox);
    await a.locator('#report-btn').click();
    await a.locator('#place-banner').waitFor({ state: 'visible' });
    const pt = await pixelIn(a, cell.code);
    assert.ok(pt, 'no free pixel in the cell on page A');
    await clickMap(a, pt);
    await a.locator('#report-dialog[open]').waitFor();
    assert.match(await a.locator('#report-place').textContent(), /东经 \d+\.\d+，北纬 \d+\.\d+/);
    await a.locator('#report-category').selectOption('road');
    await a.locator('#report-dialog input[name=grade][value=major]').check();
    await a.locator('#report-description').fill('人行道路面塌陷约30厘米，已设置围挡');
    await a.locator('#report-responsible').fill('区住建局');
    await a.locator('#report-submit').click();
    const err = a.locator('#report-form [data-error-for=deadline]');
    await err.waitFor({ state: 'visible' });
    assert.match(await err.textContent(), /整改时限.*重大隐患须明确整改时限/);
    assert.equal(await a.locator('#report-dialog').evaluate((d) => d.open), true);
    await a.locator('#report-deadline').fill(dayAfter(10));
    // B notes when each list item first appears (for the report below).
    await b.evaluate(() => {
      window.__listed = {};
      new MutationObserver(() => {
        for (const li of document.querySelectorAll('#hd-list li[data-hd]')) window.__listed[li.dataset.hd] ??= Date.now();
      }).observe(document.getElementById('hd-list'), { childList: true, subtree: true });
    });
    const answered = a.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/hidden-dangers'));
    await a.locator('#report-submit').click();
    assert.equal((await answered).status(), 201);
    reportedAt = Date.now();
    await a.locator('#report-dialog').waitFor({ state: 'hidden' });
    const record = a.locator('#detail [data-hd-record]');
    await record.waitFor();
    id = await record.getAttribute('data-hd-record');
    assert.equal(await record.getAttribute('data-status'), 'reported');
    const stored = await api(server.base, `/api/hidden-dangers/${encodeURIComponent(id)}`, PLANNER);
    assert.equal(stored.properties.cell.slice(0, cell.code.length), cell.code);
    assert.equal(stored.properties.grade, 'major');
    assert.equal(stored.properties.responsible, '区住建局');
  });

  it("B's list, cell panel and tiles show it without a reload", async (t) => {
    const now = await api(server.base, `/api/cells/${cell.code}`, PLANNER);
    assert.notEqual(now.risk_score.toFixed(1), before0.risk_score.toFixed(1), 'a major danger changes the cell score');
    await b.locator(`#hd-list li[data-hd="${id}"]`).waitFor({ timeout: LIVE });
    const listed = await b.evaluate((id) => window.__listed[id], id);
    t.diagnostic(`page B listed the report ${listed - reportedAt} ms after page A had its 201`);
    await b.waitForFunction((s) => document.querySelector('#detail .score[data-score]')?.dataset.score === s,
      now.risk_score.toFixed(1), { timeout: LIVE });
    await b.locator(`#detail [data-unit-dangers] li[data-hd="${id}"]`).waitFor({ timeout: LIVE });
    await b.waitForFunction(({ code, s }) => {
      const f = window.map.queryRenderedFeatures({ layers: ['cells-fill'] }).find((x) => x.properties.code === code);
      return f && Number(f.properties.risk_score).toFixed(1) === s;
    }, { code: cell.code, s: now.risk_score.toFixed(1) }, { timeout: LIVE });
    assert.equal(await tileScore(b, cell.code), now.risk_score.toFixed(1));
    // The danger is drawn on B's map.
    await b.waitForFunction((id) => window.map.querySourceFeatures('hidden-dangers').some((f) => f.properties.id === id),
      id, { timeout: LIVE });
  });

  it('B (grid manager) starts — through a stale ETag (412) and a refused action (409) — and rectifies', async () => {
    await b.locator(`#hd-list li[data-hd="${id}"]`).click();
    const rec = b.locator(`#detail [data-hd-record="${id}"]`);
    await rec.waitFor();
    assert.equal(await b.locator('#detail [data-hd-action=close]').count(), 0, 'grid manager sees no 验收 button');
    assert.equal(await b.locator('#detail [data-hd-action=reject]').count(), 0);
    // 412: the planner extends the deadline while B's request is on its
    // way; B's If-Match is stale, and the page reloads the record and says so.
    const events = `**/api/hidden-dangers/${encodeURIComponent(id)}/events`;
    await b.route(events, async (route) => {
      const path = `/api/hidden-dangers/${encodeURIComponent(id)}`;
      const auth = { Authorization: `Bearer ${PLANNER}` };
      const etag = (await fetch(server.base + path, { headers: auth })).headers.get('etag');
      const r = await fetch(`${server.base}${path}/events`, {
        method: 'POST',
        headers: { ...auth, 'If-Match': etag, 'Content-Type': 'application/json' },
        body: JSON.stringify({ action: 'extend', deadline: dayAfter(20), note: '材料到货延迟' }),
      });
      assert.equal(r.status, 200);
      return route.fallback();
    }, { times: 1 });
    await b.locator('#detail [data-hd-action=start]').click();
    await b.locator('#detail [data-hd-message]', { hasText: '刚被他人更新' }).waitFor();
    assert.equal(await rec.getAttribute('data-status'), 'reported');
    assert.match(await b.locator('#detail .hd-history li').first().innerText(), /延期[\s\S]*材料到货延迟/);
    // 409: an action the status does not allow (sent to the real server in
    // place of the page's) shows the server's word.
    await b.route(events, async (route) => {
      const resp = await route.fetch({ postData: JSON.stringify({ action: 'rectify' }) });
      assert.equal(resp.status(), 409);
      return route.fulfill({ response: resp });
    }, { times: 1 });
    await b.locator('#detail [data-hd-action=start]').click();
    await b.locator('#hd-act-error').waitFor({ state: 'visible' });
    assert.match(await b.locator('#hd-act-error').textContent(), /当前状态不允许该操作.*rectify is not allowed/);
    await b.locator('#detail textarea[name=note]').fill('已安排施工队进场');
    await b.locator('#detail [data-hd-action=start]').click();
    await b.locator(`#detail [data-hd-record="${id}"][data-status=rectifying]`).waitFor();
    await b.locator('#detail textarea[name=note]').fill('已回填压实，恢复通行');
    await b.locator('#detail [data-hd-action=rectify]').click();
    await b.locator(`#detail [data-hd-record="${id}"][data-status=rectified]`).waitFor();
    assert.equal(await b.locator('#detail [data-hd-action]').count(), 0, 'nothing left for the grid manager');
    const hist = await b.locator('#detail .hd-history li').allInnerTexts();
    assert.ok(hist[0].includes('整改完成') && hist[0].includes('网格员-金山社区') && hist[0].includes('已回填压实'), hist[0]);
  });

  it('A (planner) sees it rectified live and closes it; the score returns', async () => {
    await a.locator(`#detail [data-hd-record="${id}"][data-status=rectified]`).waitFor({ timeout: LIVE });
    await a.locator('#detail textarea[name=note]').fill('现场验收合格');
    await a.locator('#detail [data-hd-action=close]').click();
    await a.locator(`#detail [data-hd-record="${id}"][data-status=closed]`).waitFor();
    const actions = await a.locator('#detail .hd-history li').evaluateAll((lis) => lis.map((li) => li.dataset.action));
    assert.deepEqual(actions, ['close', 'rectify', 'start', 'extend', 'report']);
    const after0 = await api(server.base, `/api/cells/${cell.code}`, PLANNER);
    assert.equal(after0.risk_score, before0.risk_score, 'closing restores the score');
    // B: the open cell panel follows, and the open list drops the record.
    await b.waitForFunction((id) => !document.querySelector(`#hd-list li[data-hd="${id}"]`), id, { timeout: LIVE });
    await b.locator(`#detail [data-hd-record="${id}"][data-status=closed]`).waitFor({ timeout: LIVE });
  });

  it('the report form is usable at phone size (375 px)', async () => {
    const p = await openPage('phone', GRID_MANAGER, {
      viewport: { width: 375, height: 667 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    });
    const me = await api(server.base, '/api/me', GRID_MANAGER);
    assert.equal(me.scope.code, GRID_SCOPE);
    await fit(p, cell.bbox, 20);
    assert.ok(await p.locator('#report-btn').isVisible());
    await p.locator('#report-btn').tap();
    const pt = await p.evaluate((code) => {
      const map = window.map;
      const c = map.getCanvas();
      for (let y = 140; y < c.clientHeight - 60; y += 7) {
        for (let x = 20; x < c.clientWidth - 20; x += 7) {
          if (map.queryRenderedFeatures([x, y], { layers: ['cells-fill'] })[0]?.properties.code === code) return { x, y };
        }
      }
      return null;
    }, cell.code);
    assert.ok(pt);
    const box = await p.locator('#map canvas').boundingBox();
    await p.touchscreen.tap(box.x + pt.x, box.y + pt.y);
    await p.locator('#report-dialog[open]').waitFor();
    const layout = await p.evaluate(() => {
      const r = document.getElementById('report-submit').getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return { r: r.toJSON(), hit: hit?.id ?? hit?.closest('button')?.id, scroll: document.documentElement.scrollWidth };
    });
    assert.ok(layout.r.bottom <= 667 && layout.r.right <= 375 && layout.r.width > 40, JSON.stringify(layout.r));
    assert.equal(layout.hit, 'report-submit', 'the submit button is on top');
    assert.ok(layout.scroll <= 375, `page scrolls sideways (${layout.scroll}px)`);
    const dialog = await p.locator('#report-dialog').boundingBox();
    assert.ok(dialog.x >= 0 && dialog.x + dialog.width <= 375, JSON.stringify(dialog));
    await p.locator('#report-cancel').tap();
    await p.locator('#report-dialog').waitFor({ state: 'hidden' });
  });

  it('every request stayed on 127.0.0.1 and no page logged an error', () => {
    assert.deepEqual(blocked, []);
    // Chromium logs every 4xx answer to fetch(); these are the three the
    // tests above asked for (missing deadline, stale ETag, refused action).
    const answer = /^(\w[\w ]*): Failed to load resource: the server responded with a status of (\d+)/;
    const asked = consoleErrors.map((e) => e.match(answer)).filter(Boolean).map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(asked, ['planner 400', 'grid manager 412', 'grid manager 409']);
    assert.deepEqual(consoleErrors.filter((e) => !answer.test(e)), []);
  });
});
