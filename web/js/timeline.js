// The map's time dimension: a date slider (and a date field) that shows
// the grid units as of a past day — the tiles are requested with
// `?date=YYYY-MM-DD` — labelled 历史 YYYY-MM-DD with a button back to
// 今日; and the 分值变化 view, which colours every grid unit by its score
// change between an earlier day and the map's day. The earlier day's
// scores come from a second, invisible tile source (`?date=` of that
// day) over the same tiles, so nothing is fetched but the tiles in view;
// each unit's change is set as feature state on the map's own source.
import { byId, esc } from './dom.js';
import { GRID_LEVELS } from './levels.js';
import { reloadAllTiles, reloadSource } from './live.js';

/** Class breaks of a change in score points, and the diverging ramp (ColorBrewer RdBu, reversed: rises are red). */
export const CHANGE_BREAKS = [-10, -5, -1, -0.05, 0.05, 1, 5, 10];
export const CHANGE_RAMP = ['#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b'];
/** A unit whose earlier score is not loaded (yet). */
export const CHANGE_NONE = '#c4ccd4';
const BASE_SOURCE = 'riskmap-base';
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` plus `n` days. */
export function addDays(day, n) {
  const t = Date.parse(`${day}T00:00:00Z`) + n * DAY_MS;
  return new Date(t).toISOString().slice(0, 10);
}
const daysBetween = (a, b) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);

/** The legend rows of the change view: [min, max) with its colour (null: open). */
export function changeClasses() {
  const label = (lo, hi) => {
    if (lo === null) return `降低 ${Math.abs(hi)} 分以上`;
    if (hi === null) return `升高 ${lo} 分以上`;
    if (lo === -0.05 && hi === 0.05) return '无变化';
    if (hi <= 0) return `降低 ${Math.abs(hi) < 0.1 ? 0.1 : Math.abs(hi)} – ${Math.abs(lo)} 分`;
    return `升高 ${lo < 0.1 ? 0.1 : lo} – ${hi} 分`;
  };
  return CHANGE_RAMP.map((color, i) => {
    const min = i === 0 ? null : CHANGE_BREAKS[i - 1];
    const max = CHANGE_BREAKS[i] ?? null;
    return { min, max, color, label: label(min, max) };
  });
}

/** The fill colour of a unit in the change view (from its feature state). */
function changeColor() {
  const ramp = ['step', ['feature-state', 'change'], CHANGE_RAMP[0]];
  CHANGE_BREAKS.forEach((b, i) => ramp.push(b, CHANGE_RAMP[i + 1]));
  return ['case', ['==', ['typeof', ['feature-state', 'change']], 'number'], ramp, CHANGE_NONE];
}

const fills = () => GRID_LEVELS.map((l) => ({ id: `${l.layer}-fill`, layer: l.layer }));

/**
 * Wires the time bar and the view switch to `map` (source `source`):
 * `asOf` is the data's as-of day, `first` the history's first day;
 * `onDate(day|null)` is told when the map's day changes, `applyDomain()`
 * puts the 分系统 colouring back when the change view closes, and
 * `setBusy()` marks the map as not idle while new colours are applied.
 * Returns `{ day() }`: the map's day (null: today).
 */
export function initTimeline(map, { source, asOf, first, onDate, applyDomain, setBusy }) {
  const bar = byId('timebar');
  const slider = byId('time-slider');
  const picker = byId('time-date');
  const label = byId('time-label');
  const today = byId('time-today');
  const span = daysBetween(first, asOf);
  let day = null;
  let changeOn = false;
  let applied = new Map();
  slider.min = String(-span);
  slider.max = '0';
  slider.value = '0';
  picker.min = first;
  picker.max = asOf;
  picker.value = asOf;
  bar.hidden = false;

  const show = () => {
    const d = day ?? asOf;
    label.textContent = day ? `历史 ${day}` : `今日 ${asOf}`;
    label.title = day ? `地图显示 ${day} 当日的风险等级（该日结束时的数据）` : '地图显示今日的风险等级';
    slider.setAttribute('aria-valuetext', day ? `历史 ${day}` : `今日 ${asOf}`);
    today.hidden = !day;
    document.body.classList.toggle('is-history', Boolean(day));
    document.body.dataset.mapDate = day ?? '';
    if (picker.value !== d) picker.value = d;
    const offset = String(-daysBetween(d, asOf));
    if (slider.value !== offset) slider.value = offset;
  };

  const setDay = (next) => {
    const d = next && next < asOf ? (next < first ? first : next) : null;
    if (d === day) { show(); return; }
    day = d;
    show();
    onDate(day);
    // Not idle until the new day's tiles are drawn (their reload may wait
    // for the next frame).
    setBusy();
    reloadAllTiles(map, source);
    if (changeOn) refreshBase();
  };
  let timer;
  slider.addEventListener('input', () => {
    const d = addDays(asOf, Number(slider.value));
    label.textContent = Number(slider.value) < 0 ? `历史 ${d}` : `今日 ${asOf}`;
    clearTimeout(timer);
    timer = setTimeout(() => setDay(d), 350);
  });
  slider.addEventListener('change', () => { clearTimeout(timer); setDay(addDays(asOf, Number(slider.value))); });
  picker.addEventListener('change', () => { if (/^\d{4}-\d{2}-\d{2}$/.test(picker.value)) setDay(picker.value); });
  today.addEventListener('click', () => { setDay(null); slider.focus(); });
  show();

  // --- the change view --------------------------------------------------
  const viewButtons = [...document.querySelectorAll('#view-switch [data-view]')];
  const period = byId('change-period');
  const legend = byId('change-legend');
  const domainSelect = byId('domain-select');
  legend.innerHTML = changeClasses().map((c) => `
    <li data-min="${c.min ?? ''}" data-max="${c.max ?? ''}" data-color="${c.color}">
      <i class="swatch" style="background:${c.color}"></i><span class="name">${esc(c.label)}</span></li>`).join('')
    + `<li data-none data-color="${CHANGE_NONE}"><i class="swatch" style="background:${CHANGE_NONE}"></i><span class="name">无对比数据</span></li>`;

  /** The earlier day of the change view: `period` days before the map's day, not before the history. */
  const baseDay = () => {
    const d = addDays(day ?? asOf, -Number(period.value));
    return d < first ? first : d;
  };
  const baseTiles = () => {
    const tiles = map.getSource(source)?.tiles?.[0] ?? '';
    return `${tiles.split('?')[0]}?date=${baseDay()}`;
  };
  const caption = () => {
    const from = baseDay();
    const to = day ?? asOf;
    byId('change-caption').textContent = `${from} → ${to} 风险分值的变化（后者减前者）`;
    byId('legend-title').textContent = '风险分值变化';
  };

  function addBase() {
    const main = map.getSource(source);
    map.addSource(BASE_SOURCE, {
      type: 'vector',
      tiles: [baseTiles()],
      minzoom: main.minzoom,
      maxzoom: main.maxzoom,
      promoteId: Object.fromEntries(GRID_LEVELS.map((l) => [l.layer, 'code'])),
    });
    const below = map.getStyle().layers.find((l) => l.type !== 'background')?.id;
    for (const f of fills()) {
      const own = map.getLayer(f.id);
      if (!own) continue;
      // Invisible, so the earlier day's tiles load at the same zooms as the map's.
      map.addLayer({
        id: `base-${f.id}`, type: 'fill', source: BASE_SOURCE, 'source-layer': f.layer,
        minzoom: own.minzoom, maxzoom: own.maxzoom, paint: { 'fill-opacity': 0 },
      }, below);
    }
  }
  function removeBase() {
    for (const f of fills()) if (map.getLayer(`base-${f.id}`)) map.removeLayer(`base-${f.id}`);
    if (map.getSource(BASE_SOURCE)) map.removeSource(BASE_SOURCE);
  }
  function refreshBase() {
    applied = new Map();
    reloadSource(map, BASE_SOURCE, (source) => source.setTiles([baseTiles()]));
    caption();
  }

  /** Sets each loaded unit's change (map's day minus the earlier day, one decimal) as its feature state. */
  function computeChanges() {
    if (!changeOn || !map.getSource(BASE_SOURCE)) return;
    let changed = 0;
    for (const f of fills()) {
      if (!map.getLayer(f.id)) continue;
      const before = new Map();
      for (const feat of map.querySourceFeatures(BASE_SOURCE, { sourceLayer: f.layer })) {
        before.set(feat.properties.code, Number(feat.properties.risk_score));
      }
      const seen = new Set();
      for (const feat of map.querySourceFeatures(source, { sourceLayer: f.layer })) {
        const code = feat.properties.code;
        if (seen.has(code) || !before.has(code)) continue;
        seen.add(code);
        const delta = Math.round((Number(feat.properties.risk_score) - before.get(code)) * 10) / 10;
        const key = `${f.layer}/${code}`;
        if (applied.get(key) === delta) continue;
        applied.set(key, delta);
        map.setFeatureState({ source, sourceLayer: f.layer, id: code }, { change: delta });
        changed++;
      }
    }
    if (changed) setBusy();
  }
  map.on('idle', computeChanges);

  const setView = (view) => {
    const on = view === 'change';
    for (const b of viewButtons) b.setAttribute('aria-pressed', String(b.dataset.view === view));
    if (on === changeOn) return;
    changeOn = on;
    document.body.dataset.view = view;
    byId('change-pick').hidden = !on;
    legend.hidden = !on;
    domainSelect.disabled = on;
    if (on) {
      domainSelect.value = '';
      applyDomain();
      applied = new Map();
      addBase();
      for (const f of fills()) if (map.getLayer(f.id)) map.setPaintProperty(f.id, 'fill-color', changeColor());
      for (const id of ['legend-list', 'legend-bar', 'domain-legend', 'domain-hint']) byId(id).hidden = true;
      caption();
      setBusy();
    } else {
      removeBase();
      for (const f of fills()) if (map.getLayer(f.id)) map.removeFeatureState({ source, sourceLayer: f.layer });
      applyDomain();
    }
  };
  for (const b of viewButtons) b.addEventListener('click', () => setView(b.dataset.view));
  period.addEventListener('change', () => { if (changeOn) { refreshBase(); setBusy(); } });
  return { day: () => day };
}
