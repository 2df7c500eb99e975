// The 筛选 card (signed in only): enterprises by industry and by risk
// grade, hazard sources by grade, and 只看重大 — enterprises of risk grade
// 重大 and hazard sources of grade 一级. The server applies the filter
// (`industry`, `risk_level`, `hazard_grade` on the tile URLs), so clusters
// count only the enterprises kept. The source's tile URL template carries
// the query; the page adds `date` (timeline.js) and the token per request,
// and the print export redraws the map from the same template.
import { getToken, onTokenChange } from './auth.js';
import { byId, esc } from './dom.js';
import { GRADE_ZH, INDUSTRY_ZH, RISK_LEVELS } from './levels.js';
import { reloadSource } from './live.js';

/** The tile URL parameters of a filter. */
export const FILTER_PARAMS = ['industry', 'risk_level', 'hazard_grade'];
/** Hazard source grades, most severe first. */
const HAZARD_GRADES = ['1', '2', '3', '4'];
/** 只看重大: risk grade 重大 and hazard grade 一级. */
export const MAJOR_ONLY = { grades: ['major'], hazard: ['1'] };

const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));
/** The values of `all` that `picked` holds, in the order of `all`; none when it holds them all. */
const narrowing = (all, picked) => {
  const kept = all.filter((x) => picked.includes(x));
  return kept.length === all.length ? [] : kept;
};

/**
 * The tile query of a filter `{ industry, grades, hazard }` (an industry
 * word or '', risk level keys, hazard grades as text): '' for none, values
 * in a fixed order, a dimension that keeps everything left out.
 */
export function filterQuery({ industry = '', grades = [], hazard = [] }) {
  const parts = [];
  if (industry && INDUSTRY_ZH[industry]) parts.push(`industry=${industry}`);
  const g = narrowing(RISK_LEVELS.map((r) => r.key), grades);
  if (g.length) parts.push(`risk_level=${g.join(',')}`);
  const h = narrowing(HAZARD_GRADES, hazard);
  if (h.length) parts.push(`hazard_grade=${h.join(',')}`);
  return parts.join('&');
}

/** A filter in words (危险化学品 · 重大 · 一级危险源), '' for none. */
export function filterWords({ industry = '', grades = [], hazard = [] }) {
  const words = [];
  if (industry && INDUSTRY_ZH[industry]) words.push(INDUSTRY_ZH[industry]);
  const g = narrowing(RISK_LEVELS.map((r) => r.key), grades);
  if (g.length) words.push(g.map((k) => RISK_LEVELS.find((r) => r.key === k).zh).join('/'));
  const h = narrowing(HAZARD_GRADES, hazard);
  if (h.length) words.push(`${h.map((x) => GRADE_ZH[x]).join('/')}危险源`);
  return words.join(' · ');
}

/**
 * A tile URL template with `query` in place of any filter it had (its
 * other parameters kept; the braces of `{z}/{x}/{y}` untouched).
 */
export function withFilter(template, query) {
  const at = template.indexOf('?');
  const path = at < 0 ? template : template.slice(0, at);
  const kept = (at < 0 ? '' : template.slice(at + 1)).split('&')
    .filter((p) => p && !FILTER_PARAMS.includes(p.split('=')[0]));
  if (query) kept.push(query);
  return kept.length ? `${path}?${kept.join('&')}` : path;
}

/**
 * Wires the 筛选 card to `map`'s vector source `source`; `setBusy()` marks
 * the map as not idle until the filtered tiles are drawn. The card shows
 * while a token is signed in; signing out clears the filter.
 */
export function initFilters(map, { source, setBusy }) {
  const card = byId('filter-card');
  const industry = byId('filter-industry');
  const major = byId('filter-major');
  const clear = byId('filter-clear');
  const status = byId('filter-status');
  industry.insertAdjacentHTML('beforeend', Object.entries(INDUSTRY_ZH)
    .map(([word, zh]) => `<option value="${esc(word)}">${esc(zh)}</option>`).join(''));
  const boxes = (fieldset, items) => byId(fieldset).insertAdjacentHTML('beforeend', items
    .map(([value, zh]) => `<label><input type="checkbox" value="${esc(value)}"><span>${esc(zh)}</span></label>`).join(''));
  boxes('filter-grades', RISK_LEVELS.map((r) => [r.key, r.zh]));
  boxes('filter-hazard', HAZARD_GRADES.map((g) => [g, GRADE_ZH[g]]));
  const checked = (fieldset) => [...byId(fieldset).querySelectorAll('input:checked')].map((i) => i.value);
  const setChecked = (fieldset, values) => {
    for (const i of byId(fieldset).querySelectorAll('input')) i.checked = values.includes(i.value);
  };
  const read = () => ({ industry: industry.value, grades: checked('filter-grades'), hazard: checked('filter-hazard') });

  /** The query the source's tiles carry now. */
  let applied = '';
  /** Puts `query` on the source's tile URLs once its TileJSON is in. */
  const load = (query) => {
    setBusy();
    const tiles = map.getSource(source)?.tiles?.[0];
    if (!tiles) {
      map.once('idle', () => { if (query === applied) load(query); });
      return;
    }
    // The template may still be the one before a change that is loading:
    // only its filter differs, and that is replaced.
    const next = withFilter(tiles, query);
    reloadSource(map, source, (s) => s.setTiles([next]));
  };

  /** Shows the card's choice in words and applies it to the map. */
  const apply = () => {
    const f = read();
    const query = filterQuery(f);
    const words = filterWords(f);
    major.checked = sameSet(narrowing(RISK_LEVELS.map((r) => r.key), f.grades), MAJOR_ONLY.grades)
      && sameSet(narrowing(HAZARD_GRADES, f.hazard), MAJOR_ONLY.hazard);
    clear.disabled = !query;
    status.textContent = query ? `筛选中：${words}` : '未筛选：显示全部生产经营单位和重大危险源。';
    status.classList.toggle('active', Boolean(query));
    card.classList.toggle('filtering', Boolean(query));
    card.dataset.filter = query;
    card.dataset.summary = words;
    if (query === applied) return;
    applied = query;
    load(query);
  };

  industry.addEventListener('change', apply);
  byId('filter-grades').addEventListener('change', apply);
  byId('filter-hazard').addEventListener('change', apply);
  major.addEventListener('change', () => {
    setChecked('filter-grades', major.checked ? MAJOR_ONLY.grades : []);
    setChecked('filter-hazard', major.checked ? MAJOR_ONLY.hazard : []);
    apply();
  });
  const reset = () => {
    industry.value = '';
    setChecked('filter-grades', []);
    setChecked('filter-hazard', []);
    apply();
  };
  clear.addEventListener('click', () => { reset(); industry.focus(); });

  const show = (token) => {
    card.hidden = !token;
    if (!token) reset();
  };
  show(getToken());
  onTokenChange(show);
}
