// The static edition: the page reads its tiles from a PMTiles archive on
// the same host instead of the server's /tiles, and shows only what the
// tiles hold (scores, levels, names, population; the private layers only
// if the archive has them). It runs when the page's `riskmap-site` meta
// names a site.json (written by `riskmap export-pmtiles --with-page`), or
// when `?pmtiles=URL` names an archive. There is no /api behind it: no
// sign-in, ranking, search, risk breakdown or ledger.
import { BASE, urlOf } from './api.js';
import { byId, esc } from './dom.js';
import { levelLayer } from './levels.js';

/** Layers an archive may hold that the server shows only with a token. */
const PRIVATE = ['enterprises', 'hazard_sources'];

/**
 * Whether the page runs as the static edition, and from what:
 * `{ config, param }` (site.json path from the meta, `?pmtiles=` value),
 * or null for the server edition.
 */
export function staticSource() {
  const param = new URLSearchParams(window.location.search).get('pmtiles') || null;
  const config = document.querySelector('meta[name="riskmap-site"]')?.content || null;
  return param || config ? { config, param } : null;
}

/** Loads a vendored script (same origin, so the CSP allows it). */
function loadScript(path) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = urlOf(path);
    s.onload = resolve;
    s.onerror = () => reject(new Error('PMTiles 组件加载失败'));
    document.head.append(s);
  });
}

/**
 * The archive's URL: `name` resolved against the page. Only archives on
 * this site are read, so a link cannot dress another file up as this
 * city's risk map (the page's CSP would refuse it anyway).
 */
export function archiveUrl(name) {
  const url = new URL(name, BASE);
  if (url.origin !== BASE.origin) throw new Error(`只能读取本站的 PMTiles 档案：${name}`);
  return url.href;
}

/**
 * Reads site.json (if named), registers MapLibre's `pmtiles://` protocol
 * and opens the archive. Resolves to `{ url, site, header, metadata }`;
 * throws with a Chinese message.
 */
export async function openArchive({ config, param }) {
  let site = {};
  if (config) {
    const resp = await fetch(urlOf(config));
    if (!resp.ok) throw new Error(`站点配置 ${config} 加载失败（${resp.status}）`);
    site = await resp.json();
  }
  const name = param ?? site.pmtiles;
  if (!name) throw new Error('站点配置没有指定 PMTiles 档案（pmtiles）');
  const url = archiveUrl(name);
  if (!window.pmtiles) await loadScript('web/vendor/pmtiles.js');
  const protocol = new window.pmtiles.Protocol({ metadata: true });
  window.maplibregl.addProtocol('pmtiles', protocol.tile);
  const archive = new window.pmtiles.PMTiles(url);
  protocol.add(archive);
  let header;
  let metadata;
  try {
    [header, metadata] = await Promise.all([archive.getHeader(), archive.getMetadata()]);
  } catch (e) {
    throw new Error(`PMTiles 档案 ${name} 读取失败：${e.message}`);
  }
  return { url, site, header, metadata: metadata ?? {} };
}

/** The layer ids the archive holds. */
export const archiveLayers = (metadata) => (metadata.vector_layers ?? []).map((l) => l.id);

/** Whether the archive holds a private layer (exported with --include-private). */
export const hasPrivate = (metadata) => archiveLayers(metadata).some((id) => PRIVATE.includes(id));

/** `2026-12-02T03:40:00Z` as 2026年12月2日. */
function dateZh(iso) {
  const d = new Date(iso ?? '');
  return Number.isNaN(d.getTime()) ? '' : `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日`;
}

/**
 * Turns the page into the static edition: hides what needs the server
 * (sign-in, search, ranking), shows the private layer toggles only if the
 * archive has those layers, and says what this edition is.
 */
export function applyStaticUi({ site, metadata }) {
  document.body.classList.add('is-static');
  byId('auth').hidden = true;
  document.querySelector('.search').hidden = true;
  byId('ranking').closest('.card').hidden = true;
  const layers = archiveLayers(metadata);
  for (const input of document.querySelectorAll('#layer-toggles .private input')) {
    input.closest('li').hidden = !layers.includes(input.dataset.group);
  }
  const symbols = { hazard_sources: '[data-symbol="hazard"]', enterprises: '.sym-cluster' };
  for (const [layer, sel] of Object.entries(symbols)) {
    const li = document.querySelector(`.legend-symbols ${sel}`)?.closest('li');
    if (li) li.hidden = !layers.includes(layer);
  }
  const version = String(metadata.data_version ?? site.data_version ?? '').slice(0, 12);
  const date = dateZh(site.exported);
  byId('subtitle').textContent = `安全风险分级管控 · 静态版${version ? ` · 数据版本 ${version}` : ''}`;
  const note = document.createElement('section');
  note.className = 'card static-note';
  note.id = 'static-note';
  note.innerHTML = `<p><b>静态版</b>：地图直接读取 PMTiles 档案，无需服务器。</p>
    <p class="facts-line">数据版本 <code>${esc(version || '–')}</code>${date ? ` · 导出于 ${esc(date)}` : ''}</p>
    <p class="muted">不含登录、风险排名、搜索、风险构成与台账下载；图例计数为当前已加载地图范围内的单元。${
      hasPrivate(metadata) ? '<br><b class="warn">本档案含涉密图层（生产经营单位、重大危险源），不得公开发布。</b>' : ''}</p>`;
  byId('sidebar').prepend(note);
  byId('data-status').textContent = `静态版 · 数据版本 ${version || '–'}${date ? ` · ${date}导出` : ''}`;
}

/**
 * Counts per risk level of the `level` units in the loaded tiles, only
 * those whose parent is `within` when given: `{ levels: { [level]: counts } }`
 * like `/api/stats`.
 */
export function tileCounts(map, source, level, within) {
  const seen = new Map();
  for (const f of map.querySourceFeatures(source, { sourceLayer: levelLayer(level) })) {
    const p = f.properties;
    if (!p.code || (within && p.parent_code !== within)) continue;
    seen.set(p.code, p.risk_level);
  }
  const counts = {};
  for (const risk of seen.values()) counts[risk] = (counts[risk] ?? 0) + 1;
  return { levels: { [level]: counts } };
}

/** The static edition's note in a grid unit's panel. */
export function unitNote(parentName) {
  const parent = parentName ? `<dl class="facts"><div><dt>上级区划</dt><dd>${esc(parentName)}</dd></div></dl>` : '';
  return `${parent}<div class="note">静态版只含地图中的评分、等级与人口；风险构成、主要风险来源、隐患与台账请在风险地图系统中登录查看。</div>`;
}
