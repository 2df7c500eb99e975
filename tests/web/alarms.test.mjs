// 监测预警 on the page against the real server over the demo city: a
// planner sees the demo's active alarms in the list and pulsing on the
// map; an alarm posted by the monitoring platform (here with the admin
// token) arrives as a toast without a reload; 确认 from the list
// acknowledges it and it stops pulsing. Run: node --test tests/web/
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PLANNER, api, launchBrowser, startServer } from './server.mjs';

const ADMIN = 'demo-admin-4be2d058';
const TIMEOUT = 120_000;

describe('monitoring alarms on the page', { timeout: 10 * 60_000 }, () => {
  let server;
  let browser;
  let page;
  const errors = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN' });
    await ctx.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (['data:', 'blob:'].includes(url.protocol) || url.hostname === '127.0.0.1') return route.fallback();
      return route.abort();
    });
    await ctx.addInitScript((t) => sessionStorage.setItem('riskmap.token', t), PLANNER);
    page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => window.map && document.body.dataset.mapIdle === 'true', null, { timeout: TIMEOUT })
      .catch((e) => { throw new Error(`${e.message}; page errors: ${errors.join(' | ')}`); });
    await page.locator('#al-card').waitFor({ state: 'visible', timeout: TIMEOUT });
  });

  after(async () => {
    await browser?.close();
    server?.stop();
  });

  it('lists the active alarms of the demo and pulses the unacknowledged ones', async () => {
    const fc = await api(server.base, '/api/alarms?active=true', PLANNER);
    assert.ok(fc.features.length >= 3, `demo alarms: ${fc.features.length}`);
    await page.waitForFunction((n) => document.querySelectorAll('#al-list li[data-alarm]').length === n,
      fc.features.length, { timeout: TIMEOUT });
    const pulsing = await page.evaluate(() => [...document.querySelectorAll('.al-marker')]
      .map((m) => ({ ack: m.classList.contains('al-ack'), anim: getComputedStyle(m).animationName })));
    assert.equal(pulsing.length, fc.features.length);
    const acked = fc.features.filter((f) => f.properties.status === 'acknowledged').length;
    assert.equal(pulsing.filter((m) => m.anim === 'al-pulse').length, fc.features.length - acked);
  });

  it('shows a toast for a new alarm in scope and acknowledges it from the list', async () => {
    const sensors = await api(server.base, '/api/alarms', PLANNER);
    const sensor = sensors.features.find((f) => f.properties.sensor_id).properties.sensor_id;
    const id = `ALM-WEB-${Date.now()}`;
    const resp = await fetch(`${server.base}/api/alarms`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/x-ndjson' },
      body: JSON.stringify({ id, sensor_id: sensor, level: 1, value: 40, threshold: 20, started_at: new Date().toISOString() }),
    });
    assert.equal(resp.status, 201, await resp.text());
    await page.locator('.toast', { hasText: id }).waitFor({ timeout: TIMEOUT });
    const item = page.locator(`#al-list li[data-alarm="${id}"]`);
    await item.waitFor({ timeout: TIMEOUT });
    await item.locator('button[data-act=ack]').click();
    await page.waitForFunction((id) => document.querySelector(`#al-list li[data-alarm="${id}"]`)?.textContent.includes('已确认')
      && document.querySelector(`.al-marker[data-alarm="${id}"]`)?.classList.contains('al-ack'), id, { timeout: TIMEOUT });
    const after = await api(server.base, '/api/alarms', PLANNER);
    assert.equal(after.features.find((f) => f.id === id).properties.status, 'acknowledged');
    assert.deepEqual(errors, []);
  });
});
