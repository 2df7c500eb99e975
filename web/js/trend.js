// The unit's score over time in the click panel: a small line chart of
// the last 12 months (or 90 days) from /api/cells/{code}/history, its
// points in the level colours, the change against last month, and the
// 月通报 download (/api/report as XLSX, with the token).
import { get, getJson } from './api.js';
import { getToken } from './auth.js';
import { esc, saveBlob, toast } from './dom.js';
import { RISK_LEVELS, riskZh } from './levels.js';

/** The chart's size in SVG units (it scales to the panel's width). */
const W = 300;
const H = 96;
const PAD = { left: 26, right: 8, top: 8, bottom: 18 };
/** Level thresholds of the score (RISK_MODEL): low < 25 ≤ medium < 50 ≤ high < 75 ≤ major. */
const BANDS = [[0, 25, 'low'], [25, 50, 'medium'], [50, 75, 'high'], [75, 100, 'major']];
const colourOf = (level) => RISK_LEVELS.find((r) => r.key === level)?.color ?? '#b8c2cc';

/** Where the map is (`null`: today), set by the timeline. */
let mapDay = () => null;

/** Tells the chart which day the map shows (a function returning 'YYYY-MM-DD' or null). */
export function setMapDay(fn) {
  mapDay = fn;
}

/** A month `YYYY-MM-DD` (its first day) as 2026-11 / 11月. */
const monthOf = (date) => date.slice(0, 7);

/**
 * The chart of `points` ([{date, risk_score, risk_level}]): the y axis
 * spans the points (at least 10 score points, within 0–100), the level
 * bands behind, one dot per point in its level's colour.
 */
export function chartSvg(points, { monthly, marker } = {}) {
  const scores = points.map((p) => p.risk_score);
  let lo = Math.max(0, Math.floor(Math.min(...scores) - 3));
  let hi = Math.min(100, Math.ceil(Math.max(...scores) + 3));
  if (hi - lo < 10) {
    const mid = (hi + lo) / 2;
    lo = Math.max(0, Math.min(90, Math.round(mid - 5)));
    hi = lo + 10;
  }
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (points.length > 1 ? (iw * i) / (points.length - 1) : iw / 2);
  const y = (s) => PAD.top + ih * (1 - (s - lo) / (hi - lo));
  const bands = BANDS.filter(([a, b]) => b > lo && a < hi).map(([a, b, level]) => {
    const top = y(Math.min(b, hi));
    const bottom = y(Math.max(a, lo));
    return `<rect x="${PAD.left}" y="${top.toFixed(2)}" width="${iw}" height="${(bottom - top).toFixed(2)}" fill="${colourOf(level)}" opacity=".13"/>`;
  }).join('');
  const ticks = [lo, hi].map((v) => `<text x="${PAD.left - 4}" y="${(y(v) + 3.5).toFixed(2)}" text-anchor="end">${v}</text>`).join('');
  const line = points.map((p, i) => `${x(i).toFixed(2)},${y(p.risk_score).toFixed(2)}`).join(' ');
  const label = (p) => (monthly ? `${monthOf(p.date)} 月末` : p.date);
  const dots = points.map((p, i) => `<circle cx="${x(i).toFixed(2)}" cy="${y(p.risk_score).toFixed(2)}" r="${monthly ? 3.2 : 1.8}"
      fill="${colourOf(p.risk_level)}" data-date="${esc(p.date)}" data-score="${p.risk_score}" data-level="${esc(p.risk_level)}"><title>${esc(label(p))}：${p.risk_score.toFixed(1)} 分（${esc(riskZh(p.risk_level))}）</title></circle>`).join('');
  const first = points[0];
  const last = points.at(-1);
  const axis = `<text x="${PAD.left}" y="${H - 4}" text-anchor="start">${esc(monthly ? monthOf(first.date) : first.date)}</text>
    <text x="${W - PAD.right}" y="${H - 4}" text-anchor="end">${esc(monthly ? monthOf(last.date) : last.date)}</text>`;
  let mark = '';
  if (marker) {
    const i = points.findIndex((p) => (monthly ? monthOf(p.date) === monthOf(marker) : p.date === marker));
    if (i >= 0) mark = `<line class="marker" x1="${x(i).toFixed(2)}" x2="${x(i).toFixed(2)}" y1="${PAD.top}" y2="${H - PAD.bottom}"><title>地图显示的日期 ${esc(marker)}</title></line>`;
  }
  const desc = `${monthly ? '近 12 个月' : '近 90 天'}风险分值：${points.map((p) => `${label(p)} ${p.risk_score.toFixed(1)}`).join('，')}`;
  return `<svg class="spark" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(desc)}"
      data-lo="${lo}" data-hi="${hi}">${bands}${mark}
    <polyline points="${line}" fill="none" stroke="#33475b" stroke-width="1.4" vector-effect="non-scaling-stroke"/>${dots}${ticks}${axis}</svg>`;
}

/** The change of the last point against the one before, as HTML. */
export function changeHtml(points) {
  if (points.length < 2) return '';
  const d = Math.round((points.at(-1).risk_score - points.at(-2).risk_score) * 10) / 10;
  const cls = d > 0 ? 'up' : d < 0 ? 'down' : 'flat';
  const text = d > 0 ? `↑ ${d.toFixed(1)}` : d < 0 ? `↓ ${Math.abs(d).toFixed(1)}` : '持平';
  const why = d > 0 ? '风险上升' : d < 0 ? '风险下降' : '分值不变';
  return `<span class="trend-change ${cls}" data-change="${d}" title="${why}：较上月末 ${points.at(-2).risk_score.toFixed(1)} 分">较上月 ${text}</span>`;
}

/**
 * Fills `box` (the panel's trend section of unit `code`, named `name`):
 * the chart, the change against last month, and (signed in) the 月通报.
 */
export async function showTrend(box, code, name) {
  if (!box) return;
  box.innerHTML = '<h4>风险走势</h4><div class="skeleton"></div>';
  let monthly;
  try {
    monthly = await getJson(`api/cells/${encodeURIComponent(code)}/history`, { step: 'month' });
  } catch (e) {
    box.innerHTML = e.status === 404 ? '' : `<h4>风险走势</h4><p class="muted">走势加载失败：${esc(e.message)}</p>`;
    return;
  }
  if (!box.isConnected) return;
  const months = (monthly.series ?? []).slice(-12);
  if (!months.length) { box.innerHTML = ''; return; }
  const firstMonth = monthOf(monthly.series[0].date);
  const lastMonth = monthOf(months.at(-1).date);
  const day = mapDay();
  const note = day ? `<p class="trend-note">地图显示 <b>历史 ${esc(day)}</b>（走势图中的竖线）；面板中的构成与明细为今日数据。</p>` : '';
  const pick = day && monthOf(day) >= firstMonth ? monthOf(day) : lastMonth;
  const report = getToken() ? `<div class="report-row">
      <label><span>通报月份</span><input type="month" data-report-month value="${esc(pick)}" min="${esc(firstMonth)}" max="${esc(lastMonth)}" aria-label="月通报的月份"></label>
      <button class="btn outline small" type="button" data-report="${esc(code)}" data-name="${esc(name)}">下载月通报</button></div>` : '';
  box.innerHTML = `<div class="trend-head"><h4>风险走势</h4>${changeHtml(months)}</div>
    <div class="seg" role="group" aria-label="走势时段">
      <button type="button" data-span="months" aria-pressed="true">近12个月</button>
      <button type="button" data-span="days" aria-pressed="false">近90天</button></div>
    <div class="chart" data-chart="months">${chartSvg(months, { monthly: true, marker: day })}</div>
    ${note}${report}`;
  const chart = box.querySelector('.chart');
  let daily = null;
  for (const b of box.querySelectorAll('[data-span]')) {
    b.addEventListener('click', async () => {
      for (const o of box.querySelectorAll('[data-span]')) o.setAttribute('aria-pressed', String(o === b));
      if (b.dataset.span === 'months') {
        chart.dataset.chart = 'months';
        chart.innerHTML = chartSvg(months, { monthly: true, marker: mapDay() });
        return;
      }
      try {
        daily ??= (await getJson(`api/cells/${encodeURIComponent(code)}/history`, { step: 'day' })).series.slice(-90);
      } catch (e) {
        toast(`走势加载失败：${e.message}`);
        return;
      }
      chart.dataset.chart = 'days';
      chart.innerHTML = chartSvg(daily, { monthly: false, marker: mapDay() });
    });
  }
  box.querySelector('[data-report]')?.addEventListener('click', (e) => {
    const month = box.querySelector('[data-report-month]').value || lastMonth;
    downloadReport(code, name, month, e.currentTarget);
  });
}

/** Fetches the 月通报 of `code` for `month` ('YYYY-MM') as XLSX and saves it. */
async function downloadReport(code, name, month, button) {
  button.disabled = true;
  const label = button.textContent;
  button.textContent = '正在生成通报…';
  try {
    const resp = await get('api/report', { within: code, period: month, format: 'xlsx' });
    saveBlob(await resp.blob(), `安全风险月通报_${name}_${month}.xlsx`);
    toast(`已下载 ${name} ${month} 月通报`, 'info');
  } catch (e) {
    toast(e.status === 403 ? '该单元不在您的管辖范围内，无法下载通报。' : `通报下载失败：${e.message}`);
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}
