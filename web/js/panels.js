// The sidebar: legend with counts, layer toggles, ranking; and the search box.
import { get, getJson } from './api.js';
import { byId, debounce, esc, fmt, saveBlob, toast } from './dom.js';
import { LAYER_ZH, RISK_LEVELS, levelZh } from './levels.js';

// --- legend ---------------------------------------------------------------

let legendRequest = 0;

/**
 * Shows the counts per risk level of `level` units inside `within` (a unit
 * code, or null for the whole city), named `scopeName`: from `/api/stats`,
 * or from `localStats(level, within)` (same shape) when given.
 */
export async function updateLegend(level, within, scopeName, localStats) {
  const id = ++legendRequest;
  const scopeEl = byId('legend-scope');
  scopeEl.textContent = `统计范围：${scopeName} · ${levelZh(level)}`;
  scopeEl.title = within
    ? `图例数字为${scopeName}内全部${levelZh(level)}的个数（含视图外部分），视图内的${levelZh(level)}都在其中`
    : `图例数字为全市全部${levelZh(level)}的个数`;
  let stats;
  if (localStats) {
    stats = localStats(level, within);
  } else {
    try {
      stats = await getJson('api/stats', { within });
    } catch (e) {
      if (id === legendRequest) toast(`风险统计加载失败：${e.message}`);
      return;
    }
  }
  if (id !== legendRequest) return;
  const counts = stats.levels?.[level] ?? {};
  const total = RISK_LEVELS.reduce((n, r) => n + (counts[r.key] ?? 0), 0);
  for (const r of RISK_LEVELS) {
    const el = document.querySelector(`[data-count="${r.key}"]`);
    el.textContent = fmt(counts[r.key] ?? 0);
    el.title = `${r.zh}风险${levelZh(level)} ${counts[r.key] ?? 0} 个`;
  }
  byId('legend-bar').innerHTML = total
    ? RISK_LEVELS.map((r) => `<i style="width:${(100 * (counts[r.key] ?? 0)) / total}%;background:${r.color}"></i>`).join('')
    : '';
  if (!stats.layers) return;
  const l = stats.layers;
  const foot = byId('data-status');
  foot.dataset.within = within ?? '';
  foot.textContent =
    `${scopeName}${within ? '内' : '共'}有生产经营单位 ${fmt(l.enterprises)} 家、重大危险源 ${fmt(l.hazard_sources)} 处、道路塌陷风险区 ${fmt(l.collapse_zones)} 处`;
}

// --- layer toggles ----------------------------------------------------------

/** Wires the layer checkboxes to the style's layer groups. */
export function initToggles(map) {
  const apply = (input) => {
    const group = input.dataset.group;
    for (const layer of map.getStyle().layers) {
      if (layer.metadata?.['riskmap:group'] === group) {
        map.setLayoutProperty(layer.id, 'visibility', input.checked ? 'visible' : 'none');
      }
    }
  };
  for (const input of document.querySelectorAll('#layer-toggles input')) {
    input.addEventListener('change', () => apply(input));
    apply(input);
  }
}

// --- ranking ----------------------------------------------------------------

/** Entries in the ranking (the API's most). */
const RANK_ROWS = 100;

/**
 * Fills the ranking list (each entry with its parent unit, reachable by
 * Tab, Enter picks); `onPick(item)` when an entry is chosen.
 */
export function initRanking(onPick) {
  const list = byId('ranking');
  const tabs = [...document.querySelectorAll('#ranking-tabs [role=tab]')];
  let items = [];
  let shownLevel = 'county';
  const load = async (level) => {
    shownLevel = level;
    for (const t of tabs) t.setAttribute('aria-selected', String(t.dataset.level === level));
    list.innerHTML = '<li class="msg"><div class="skeleton"></div></li>';
    try {
      const body = await getJson('api/ranking', { level, limit: RANK_ROWS });
      items = body.items ?? [];
    } catch (e) {
      list.innerHTML = `<li class="msg">排名加载失败：${esc(e.message)}</li>`;
      return;
    }
    if (!items.length) {
      list.innerHTML = '<li class="msg">暂无数据</li>';
      return;
    }
    const top = Math.max(...items.map((i) => i.risk_score), 1);
    list.innerHTML = items.map((it, n) => `
      <li data-index="${n}" data-code="${esc(it.code)}" tabindex="0" role="button"
          title="${esc(it.name)}（${esc(it.code)}）" aria-label="第 ${n + 1} 名 ${esc(it.name)}${it.parent_name ? `，${esc(it.parent_name)}` : ''}，${it.risk_score.toFixed(1)} 分">
        <span class="who-name">${esc(it.name)}${it.parent_name ? `<span class="parent">${esc(it.parent_name)}</span>` : ''}
          <span class="bar"><i style="width:${(100 * it.risk_score) / top}%;background:${esc(it.risk_color)}"></i></span>
        </span>
        <span class="pill ${esc(it.risk_level)}">${it.risk_score.toFixed(1)}</span>
      </li>`).join('');
  };
  list.addEventListener('click', (e) => {
    const li = e.target.closest('li[data-index]');
    if (li) onPick(items[Number(li.dataset.index)]);
  });
  list.addEventListener('keydown', (e) => {
    const li = e.target.closest('li[data-index]');
    if (!li || (e.key !== 'Enter' && e.key !== ' ')) return;
    e.preventDefault();
    onPick(items[Number(li.dataset.index)]);
  });
  // The whole ranking of the level as an Excel workbook from the server.
  byId('ranking-export')?.addEventListener('click', async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try {
      const resp = await get('api/ranking', { level: shownLevel, format: 'xlsx' });
      saveBlob(await resp.blob(), `风险排名_${levelZh(shownLevel).replace('/', '')}.xlsx`);
      toast(`已导出${levelZh(shownLevel)}风险排名`, 'info');
    } catch (err) {
      toast(`排名导出失败：${err.message}`);
    } finally {
      button.disabled = false;
    }
  });
  for (const t of tabs) t.addEventListener('click', () => load(t.dataset.level));
  load('county');
}

// --- search -------------------------------------------------------------------

const KIND_ZH = { grid_unit: null, enterprise: LAYER_ZH.enterprises, hazard_source: LAYER_ZH.hazard_sources };

/** The search box; `onPick(item)` with a `/api/search` item. */
export function initSearch(onPick) {
  const input = byId('search-input');
  const box = byId('search-results');
  let items = [];
  let active = -1;
  let request = 0;
  let pickWhenReady = false;
  const close = () => { box.hidden = true; input.setAttribute('aria-expanded', 'false'); active = -1; };
  const mark = () => {
    [...box.children].forEach((li, n) => li.setAttribute('aria-selected', String(n === active)));
  };
  const render = () => {
    box.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    if (!items.length) {
      box.innerHTML = '<li class="empty">没有匹配的结果</li>';
      return;
    }
    box.innerHTML = items.map((it, n) => {
      const kind = KIND_ZH[it.kind] ?? levelZh(it.level);
      return `<li role="option" data-index="${n}" aria-selected="false">
        <span class="kind">${esc(kind)}</span><span class="name">${esc(it.name)}${it.parent ? `<span class="parent">${esc(it.parent.name)}</span>` : ''}</span><span class="id">${esc(it.id)}</span></li>`;
    }).join('');
  };
  const pick = (n) => {
    const it = items[n];
    if (!it) return;
    close();
    input.value = it.name;
    input.blur();
    onPick(it);
  };
  const search = debounce(async () => {
    const q = input.value.trim();
    const id = ++request;
    if (!q) { close(); items = []; return; }
    try {
      const body = await getJson('api/search', { q, limit: 12 });
      if (id !== request) return;
      items = body.items ?? [];
      active = items.length ? 0 : -1;
      if (pickWhenReady && items.length) { pickWhenReady = false; pick(0); return; }
      pickWhenReady = false;
      render();
      mark();
    } catch (e) {
      if (id === request) toast(`搜索失败：${e.message}`);
    }
  }, 200);
  input.addEventListener('input', () => { pickWhenReady = false; search(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (!items.length) return;
      e.preventDefault();
      active = (active + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      mark();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (!box.hidden && active >= 0) pick(active);
      else if (input.value.trim()) { pickWhenReady = true; search(); }
    } else if (e.key === 'Escape') {
      close();
    }
  });
  box.addEventListener('mousedown', (e) => {
    const li = e.target.closest('li[data-index]');
    if (li) { e.preventDefault(); pick(Number(li.dataset.index)); }
  });
  input.addEventListener('blur', () => setTimeout(close, 150));
  input.addEventListener('focus', () => { if (items.length && input.value.trim()) { render(); mark(); } });
}

