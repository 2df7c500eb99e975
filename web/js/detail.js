// The click panel: a grid unit's score, level, breakdown and top
// contributors (from /api/cells/{code} when signed in, from the tile's
// properties otherwise), its ledger download, and enterprise, hazard
// source and collapse zone details. The static edition shows only the
// tile's properties.
import { get, getJson } from './api.js';
import { getToken } from './auth.js';
import { byId, esc, fmt, saveBlob, toast } from './dom.js';
import { unitNote } from './static.js';
import { GRADE_ZH, INDUSTRY_ZH, LAYER_ZH, RISK_LEVELS, ZONE_KIND_ZH, domainZh, levelZh, riskZh } from './levels.js';

const panel = byId('detail');
const body = byId('detail-body');
let hooks = {
  onClose() {}, focusUnit() {}, signIn() {}, afterUnit() {}, trend() {}, staticEdition: false, parentName() { return null; },
};
let shown = 0;

/**
 * Sets what the panel calls: onClose(), focusUnit(code), signIn(),
 * afterUnit(summary, body) once a unit's summary is shown,
 * trend(section, code, name) to fill a unit's 风险走势 section; and for
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
    if (ledger) downloadLedger(ledger.dataset.ledger, ledger.dataset.name, ledger, ledger.dataset.format ?? 'csv');
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

/** The unit's 风险走势 section, filled by the `trend` hook. */
const trendSection = (code) => `<section class="trend" data-trend="${esc(code)}"></section>`;

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
    open(`${basic}${trendSection(props.code)}${facts}
      <div class="note">登录后可查看风险构成（H/E/C/V）、主要风险来源、隐患与风险点台账。
        <div><button class="btn primary small" type="button" data-action="signin">登录</button></div></div>`, keepScroll);
    hooks.trend(body.querySelector('[data-trend]'), props.code, props.name);
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
  hooks.trend(body.querySelector('[data-trend]'), s.code, s.name);
  hooks.afterUnit(s, body);
}

function bar(label, value, max, color, shownValue) {
  const w = Math.max(0, Math.min(100, (100 * value) / max));
  return `<div class="row"><span>${label}</span><span class="track"><i style="width:${w}%;background:${color}"></i></span>
    <span class="val">${shownValue ?? Number(value).toFixed(1)}</span></div>`;
}

/** A level's word without the slash (村/社区 → 村（社区）) for running text. */
const levelWord = (level) => ({ county: '区县', town: '乡镇（街道）', village: '村（社区）', cell: '网格' })[level] ?? levelZh(level);

/**
 * The unit's rank in words: "本社区 2 个网格中第 1；全市第 N" (the parent's
 * name when known, the city-wide rank when the API gives it).
 */
export function rankText(s) {
  if (!s.rank) return '';
  const parent = (s.parents ?? []).at(-1);
  const among = parent
    ? `${parent.name} ${s.rank.of} 个${levelWord(s.level)}中第 ${s.rank.position}`
    : `全市 ${s.rank.of} 个${levelWord(s.level)}中第 ${s.rank.position}`;
  const city = parent && s.rank.city_position ? `；全市第 ${s.rank.city_position}（共 ${s.rank.city_of} 个）` : '';
  return among + city;
}

/**
 * One sentence for officials on why the unit scores what it does: the
 * largest shares of its score, its largest single source, and what is open.
 */
export function explainSentence(s) {
  const steps = Object.entries(s.domains ?? {}).filter(([, x]) => x >= 0.05).sort((a, b) => b[1] - a[1]);
  const score = Number(s.risk_score).toFixed(1);
  let text = `${s.name}为${riskZh(s.risk_level)}风险（${score} 分）`;
  if (!steps.length) return `${text}，范围内没有计入评分的风险源。`;
  const main = steps.slice(0, 2).map(([d, x]) => `${domainZh(d)}（+${x.toFixed(1)} 分）`).join('和');
  text += `，主要来自${main}`;
  const top = (s.top_contributors ?? [])[0];
  if (top?.name) text += `，其中影响最大的是${top.name}（+${Number(top.contribution).toFixed(1)} 分）`;
  const c = s.counts ?? {};
  const hd = s.hidden_dangers ?? {};
  const facts = [];
  if (c.hazard_sources) facts.push(`重大危险源 ${c.hazard_sources} 处`);
  if (hd.open) facts.push(`未整改隐患 ${hd.open} 处${hd.major ? `（其中重大隐患 ${hd.major} 处）` : ''}`);
  return `${text}${facts.length ? `；区域内有${facts.join('、')}` : ''}。`;
}

/** The ⓘ with the score's formula in words. */
const FORMULA = `<details class="formula"><summary title="风险分值的计算方法" aria-label="风险分值的计算方法">ⓘ 计算方法</summary>
  <p>风险分值 S = 100 ×（1 − e<sup>−V×Λ</sup>），Λ 为影响本单元的各风险源“风险压力”之和（重大危险源、生产经营单位、道路塌陷风险区、监测预警），V 为人员密集程度放大系数。
  每个风险源的贡献 = S × 其压力 ÷ Λ，各项贡献相加正好等于分值。分值 ≥ 75 为重大、≥ 50 为较大、≥ 25 为一般，其余为低风险。</p></details>`;

function unitHtml(s) {
  const crumbs = (s.parents ?? []).map((p) =>
    `<a href="#" data-unit="${esc(p.code)}">${esc(p.name)}</a>`).join(' › ');
  const rank = s.rank ? `<span class="rank" data-rank>${esc(rankText(s))}</span>` : '';
  let html = header(s.name, `${esc(levelZh(s.level))} · 代码 ${esc(s.code)}`);
  if (crumbs) html += `<p class="crumbs">${crumbs}</p>`;
  html += scoreBox(s.risk_score, s.risk_level, rank) + trendSection(s.code);
  html += `<p class="explain" data-explain>${esc(explainSentence(s))}</p>${FORMULA}`;
  if (s.breakdown) {
    const b = s.breakdown;
    html += `<h4>风险构成</h4><div class="bars" data-breakdown>
      ${bar('周边重大危险源', b.h, 100, '#54278f')}
      ${bar('生产经营单位', b.e, 100, '#e6550d')}
      ${bar('道路塌陷风险', b.c, 100, '#8c510a')}
      ${bar('人员密集放大', b.v, 2, '#3182bd', `×${Number(b.v).toFixed(2)}`)}</div>`;
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
    <button class="btn primary small" type="button" data-ledger="${esc(s.code)}" data-name="${esc(s.name)}" data-format="xlsx">下载风险点台账（Excel）</button>
    <button class="btn ghost small" type="button" data-ledger="${esc(s.code)}" data-name="${esc(s.name)}" data-format="csv">CSV</button></div>
    <p class="legend-note">台账列出本单元的全部重大危险源、道路塌陷风险区，以及风险等级为较大、重大或有未整改隐患的生产经营单位（一般、低风险且无隐患的企业不列入）。</p>`;
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
async function downloadLedger(code, name, button, format = 'csv') {
  button.disabled = true;
  const label = button.textContent;
  button.textContent = '正在生成台账…';
  try {
    const resp = await get(`api/cells/${encodeURIComponent(code)}/ledger.${format}`);
    saveBlob(await resp.blob(), `风险点台账_${name}_${code}.${format}`);
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

