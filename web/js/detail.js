// The click panel: a grid unit's score, level, breakdown and top
// contributors (from /api/cells/{code} when signed in, from the tile's
// properties otherwise), its ledger download, and enterprise, hazard
// source and collapse zone details. The static edition shows only the
// tile's properties.
import { get, getJson } from './api.js';
import { getToken } from './auth.js';
import { byId, esc, fmt, toast } from './dom.js';
import { unitNote } from './static.js';
import { GRADE_ZH, INDUSTRY_ZH, LAYER_ZH, RISK_LEVELS, ZONE_KIND_ZH, domainZh, levelZh, riskZh } from './levels.js';

const panel = byId('detail');
const body = byId('detail-body');
let hooks = {
  onClose() {}, focusUnit() {}, signIn() {}, afterUnit() {}, staticEdition: false, parentName() { return null; },
};
let shown = 0;

/**
 * Sets what the panel calls: onClose(), focusUnit(code), signIn(),
 * afterUnit(summary, body) once a unit's summary is shown; and for
 * the static edition `staticEdition: true` with parentName(props).
 */
export function initDetail(h) {
  hooks = { ...hooks, ...h };
  byId('detail-close').addEventListener('click', () => closeDetail());
  body.addEventListener('click', (e) => {
    const link = e.target.closest('[data-unit]');
    if (link) { e.preventDefault(); hooks.focusUnit(link.dataset.unit); }
    if (e.target.closest('[data-action=signin]')) hooks.signIn();
    const ledger = e.target.closest('[data-ledger]');
    if (ledger) downloadLedger(ledger.dataset.ledger, ledger.dataset.name, ledger);
  });
}

/** Hides the panel. */
export function closeDetail() {
  shown++;
  panel.hidden = true;
  hooks.onClose();
}

function open(html, keepScroll = false) {
  body.innerHTML = html;
  panel.hidden = false;
  if (!keepScroll) panel.scrollTop = 0;
}

/** Shows `html` (another module's detail) in the panel; returns its body element. */
export function showPanel(html, { keepScroll = false } = {}) {
  shown++;
  open(html, keepScroll && !panel.hidden);
  return body;
}

const badge = (level) => `<span class="badge ${esc(level)}">${esc(riskZh(level))}</span>`;

function scoreBox(score, level, extra = '') {
  const s = Number(score);
  return `<div class="scorebox">
    <div class="score" data-score="${Number.isFinite(s) ? s.toFixed(1) : ''}">${Number.isFinite(s) ? s.toFixed(1) : '–'}<small>分</small></div>
    ${badge(level)}${extra}</div>`;
}

function header(name, meta) {
  return `<h3>${esc(name)}</h3><p class="meta">${meta}</p>`;
}

/**
 * Shows a grid unit: tile properties at once, the full summary when signed
 * in; with `keepScroll` (a live update of the unit shown) without the
 * placeholder and where the reader had scrolled to.
 */
export async function showUnit(props, { keepScroll = false } = {}) {
  const id = ++shown;
  const level = props.level;
  const basic = header(props.name, `${esc(levelZh(level))} · 代码 ${esc(props.code)}`) +
    scoreBox(props.risk_score, props.risk_level);
  if (hooks.staticEdition) {
    const facts = props.population != null
      ? `<dl class="facts"><div><dt>常住人口</dt><dd>${fmt(props.population)}</dd></div></dl>` : '';
    open(`${basic}${facts}${unitNote(hooks.parentName(props))}`);
    return;
  }
  if (!getToken()) {
    const facts = props.population != null
      ? `<dl class="facts"><div><dt>常住人口</dt><dd>${fmt(props.population)}</dd></div></dl>` : '';
    open(`${basic}${facts}
      <div class="note">登录后可查看风险构成（H/E/C/V）、主要风险来源、隐患与风险点台账。
        <div><button class="btn primary small" type="button" data-action="signin">登录</button></div></div>`, keepScroll);
    return;
  }
  if (!keepScroll) open(`${basic}<div class="skeleton"></div><div class="skeleton"></div><div class="skeleton"></div>`);
  let s;
  try {
    s = await getJson(`api/cells/${encodeURIComponent(props.code)}`);
  } catch (e) {
    if (id !== shown) return;
    const why = e.status === 403 ? '该单元不在您的管辖范围内，无法查看明细。' : `明细加载失败：${esc(e.message)}`;
    open(`${basic}<div class="note">${why}</div>`);
    return;
  }
  if (id !== shown) return;
  open(unitHtml(s), keepScroll);
  hooks.afterUnit(s, body);
}

function bar(label, value, max, color, shownValue) {
  const w = Math.max(0, Math.min(100, (100 * value) / max));
  return `<div class="row"><span>${label}</span><span class="track"><i style="width:${w}%;background:${color}"></i></span>
    <span class="val">${shownValue ?? Number(value).toFixed(1)}</span></div>`;
}

function unitHtml(s) {
  const crumbs = (s.parents ?? []).map((p) =>
    `<a href="#" data-unit="${esc(p.code)}">${esc(p.name)}</a>`).join(' › ');
  const rank = s.rank ? `<span class="rank">同级排名<br><b>${s.rank.position}</b> / ${s.rank.of}</span>` : '';
  let html = header(s.name, `${esc(levelZh(s.level))} · 代码 ${esc(s.code)}`);
  if (crumbs) html += `<p class="crumbs">${crumbs}</p>`;
  html += scoreBox(s.risk_score, s.risk_level, rank);
  if (s.breakdown) {
    const b = s.breakdown;
    html += `<h4>风险构成</h4><div class="bars" data-breakdown>
      ${bar('H 重大危险源', b.h, 100, '#54278f')}
      ${bar('E 生产经营单位', b.e, 100, '#e6550d')}
      ${bar('C 道路塌陷', b.c, 100, '#8c510a')}
      ${bar('V 人员暴露', b.v, 2, '#3182bd', `×${Number(b.v).toFixed(2)}`)}</div>`;
  } else if (s.cell_levels) {
    const total = RISK_LEVELS.reduce((n, r) => n + (s.cell_levels[r.key] ?? 0), 0) || 1;
    html += `<h4>下辖单元网格风险分布</h4><div class="bars">${RISK_LEVELS.map((r) =>
      bar(r.zh, s.cell_levels[r.key] ?? 0, total, r.color, fmt(s.cell_levels[r.key] ?? 0))).join('')}</div>`;
  }
  if (s.domains && Object.keys(s.domains).length) html += waterfall(s);
  const top = (s.top_contributors ?? []).slice(0, 6);
  html += '<h4>主要风险来源</h4>';
  html += top.length
    ? `<ul class="contributors">${top.map((c) => `<li><span>${esc(c.name ?? '辖区外' + (LAYER_ZH[c.layer] ?? c.layer))}</span>
        <span class="plus">+${Number(c.contribution).toFixed(1)}</span>
        <span class="sub">${esc(LAYER_ZH[c.layer] ?? c.layer)} · ${esc(c.label ?? `不在本账号辖区，计入 ${domainZh(c.domain)}`)}</span></li>`).join('')}</ul>`
    : '<p class="muted">范围内没有计入评分的风险源。</p>';
  const c = s.counts ?? {};
  const hd = s.hidden_dangers ?? {};
  html += `<h4>基本情况</h4><dl class="facts">
    <div><dt>常住人口</dt><dd>${fmt(s.population)}</dd></div>
    <div><dt>面积（km²）</dt><dd>${fmt(s.area_km2, 2)}</dd></div>
    <div><dt>生产经营单位</dt><dd>${fmt(c.enterprises)}</dd></div>
    <div><dt>重大危险源</dt><dd>${fmt(c.hazard_sources)}</dd></div>
    <div><dt>道路塌陷风险区</dt><dd>${fmt(c.collapse_zones)}</dd></div>
    <div><dt>单元网格</dt><dd>${fmt(c.cells)}</dd></div>
    <div><dt>未整改隐患</dt><dd>${fmt(hd.open)}</dd></div>
    <div><dt>其中重大隐患</dt><dd>${fmt(hd.major)}</dd></div></dl>`;
  const kids = (s.children ?? []).slice(0, 8);
  if (kids.length) {
    html += `<h4>下级单元（风险由高到低）</h4><ul class="children">${kids.map((k) =>
      `<li data-unit="${esc(k.code)}"><span>${esc(k.name)}</span><span class="pill ${esc(k.risk_level)}">${Number(k.risk_score).toFixed(1)}</span></li>`).join('')}</ul>`;
  }
  html += `<div class="actions-row">
    <button class="btn primary small" type="button" data-ledger="${esc(s.code)}" data-name="${esc(s.name)}">下载风险点台账（CSV）</button></div>`;
  return html;
}

/**
 * The waterfall of a unit's score: each domain's contribution (分系统)
 * stacked from 0 up to the score, largest first, then the top features.
 * The steps are the unrounded contributions, so they sum to the score.
 */
function waterfall(s) {
  const steps = Object.entries(s.domains).sort((a, b) => b[1] - a[1]);
  const total = steps.reduce((n, [, x]) => n + x, 0);
  const scale = Math.max(total, 1e-9);
  let base = 0;
  const rows = steps.map(([d, x]) => {
    const left = (100 * base) / scale;
    const w = (100 * x) / scale;
    base += x;
    return `<div class="row" data-domain="${esc(d)}" data-value="${x}"><span>${esc(domainZh(d))}</span>
      <span class="track"><i style="margin-left:${left}%;width:${w}%"></i></span>
      <span class="val">+${x.toFixed(1)}</span></div>`;
  }).join('');
  return `<h4>分系统贡献（合计 ${Number(s.risk_score).toFixed(1)}）</h4>
    <div class="bars waterfall" data-waterfall data-total="${total}">${rows}</div>`;
}

/** Fetches the unit's ledger with the token and saves it as a file. */
async function downloadLedger(code, name, button) {
  button.disabled = true;
  const label = button.textContent;
  button.textContent = '正在生成台账…';
  try {
    const resp = await get(`api/cells/${encodeURIComponent(code)}/ledger.csv`);
    const blob = await resp.blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `风险点台账_${name}_${code}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    toast(`已下载 ${name} 的风险点台账`, 'info');
  } catch (e) {
    toast(`台账下载失败：${e.message}`);
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

/** Shows a single enterprise (tile properties). */
export function showEnterprise(p) {
  shown++;
  open(`${header(p.name, `${LAYER_ZH.enterprises} · ${esc(p.id)}`)}
    <div class="scorebox"><span>企业风险等级</span>${badge(p.risk_grade)}</div>
    <dl class="facts">
      <div><dt>行业类别</dt><dd>${esc(INDUSTRY_ZH[p.industry] ?? p.industry)}</dd></div>
      <div><dt>风险等级</dt><dd>${esc(riskZh(p.risk_grade))}</dd></div>
      <div><dt>未整改隐患</dt><dd>${fmt(p.hidden_dangers_open)}</dd></div>
      <div><dt>重大隐患</dt><dd>${fmt(p.major_hidden_dangers_open)}</dd></div>
    </dl>`);
}

/** Shows a hazard source (tile properties). */
export function showHazard(p) {
  shown++;
  open(`${header(p.name, `${LAYER_ZH.hazard_sources} · ${esc(p.id)}`)}
    <dl class="facts" style="margin-top:12px">
      <div><dt>危险源等级</dt><dd>${esc(GRADE_ZH[p.grade] ?? p.grade)}</dd></div>
      <div><dt>在线监测</dt><dd>${p.monitored ? '已接入' : '未接入'}</dd></div>
      <div style="grid-column:1/-1"><dt>主要危险化学品</dt><dd>${esc(p.substances || '–')}</dd></div>
    </dl>`);
}

/** Shows a collapse zone (tile properties). */
export function showZone(p) {
  shown++;
  const sev = { 1: '低', 2: '中', 3: '高' }[p.severity] ?? p.severity;
  open(`${header(`道路塌陷风险区 ${p.id}`, esc(ZONE_KIND_ZH[p.kind] ?? p.kind))}
    <dl class="facts" style="margin-top:12px">
      <div><dt>风险程度</dt><dd>${esc(sev)}（${esc(p.severity)}/3）</dd></div>
      <div><dt>最近雷达普查</dt><dd>${esc(p.surveyed || '未普查')}</dd></div>
    </dl>`);
}

/** Re-shows the current unit after sign-in/out (caller passes its props). */
export function isOpen() {
  return !panel.hidden;
}

