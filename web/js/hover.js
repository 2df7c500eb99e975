// Hover tooltips on the map: what is under the mouse in one line (a unit's
// name, level and score; an enterprise, hazard source or collapse zone; a
// cluster's count), so a planner can read the map without clicking. Only
// with a mouse: on touch screens a tap opens the panel instead.
import { esc } from './dom.js';
import { GRADE_ZH, GRID_LEVELS, INDUSTRY_ZH, LAYER_ZH, ZONE_KIND_ZH, riskZh } from './levels.js';

const FILL_LAYERS = GRID_LEVELS.map((l) => `${l.layer}-fill`);
const POINT_LAYERS = ['hazard-sources-symbol', 'enterprises-cluster', 'enterprises-point'];

/** The tooltip's HTML for a rendered feature `f`, or '' for none. */
export function tooltipHtml(f) {
  const p = f.properties ?? {};
  const id = f.layer.id;
  if (id === 'enterprises-cluster') {
    return `<b>${Number(p.point_count).toLocaleString('zh-CN')} 家${esc(LAYER_ZH.enterprises)}</b>
      <span>最高风险：${esc(riskZh(p.max_risk_grade))} · 点击放大</span>`;
  }
  if (id === 'enterprises-point') {
    return `<b>${esc(p.name)}</b><span>${esc(INDUSTRY_ZH[p.industry] ?? p.industry ?? '')} · ${esc(riskZh(p.risk_grade))}风险</span>`;
  }
  if (id === 'hazard-sources-symbol') {
    return `<b>${esc(p.name)}</b><span>${esc(LAYER_ZH.hazard_sources)} · ${esc(GRADE_ZH[p.grade] ?? p.grade)}</span>`;
  }
  if (id === 'collapse-zones-fill') {
    return `<b>道路塌陷风险区</b><span>${esc(ZONE_KIND_ZH[p.kind] ?? p.kind ?? '')}</span>`;
  }
  const level = GRID_LEVELS.find((l) => `${l.layer}-fill` === id);
  if (level && p.name) {
    const score = Number(p.risk_score);
    return `<b>${esc(p.name)}</b><span>${esc(level.zh)} · ${esc(riskZh(p.risk_level))}风险 ${Number.isFinite(score) ? score.toFixed(1) : '–'} 分</span>`;
  }
  return '';
}

/** Shows a tooltip beside the mouse over the map's units and points. */
export function initHover(map) {
  if (window.matchMedia?.('(hover: none)').matches) return;
  const tip = new window.maplibregl.Popup({
    closeButton: false, closeOnClick: false, className: 'hover-tip', offset: 14, maxWidth: '260px',
  });
  let shown = '';
  let frame = 0;
  let last = null;
  const hide = () => { shown = ''; tip.remove(); };
  const update = () => {
    frame = 0;
    if (!last) return;
    const { x, y } = last.point;
    const visible = (ids) => ids.filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none');
    const near = map.queryRenderedFeatures([[x - 5, y - 5], [x + 5, y + 5]], { layers: visible(POINT_LAYERS) });
    const byOrder = (a, b) => POINT_LAYERS.indexOf(a.layer.id) - POINT_LAYERS.indexOf(b.layer.id);
    const f = near.sort(byOrder)[0]
      ?? map.queryRenderedFeatures(last.point, { layers: visible(['collapse-zones-fill', ...FILL_LAYERS]) })[0];
    const html = f ? tooltipHtml(f) : '';
    if (!html) { hide(); return; }
    if (html !== shown) { tip.setHTML(html); shown = html; }
    tip.setLngLat(last.lngLat);
    if (!tip.isOpen()) tip.addTo(map);
  };
  map.on('mousemove', (e) => {
    last = e;
    if (!frame) frame = requestAnimationFrame(update);
  });
  map.getCanvas().addEventListener('mouseleave', () => { last = null; hide(); });
  map.on('movestart', () => { last = null; hide(); });
  map.on('click', hide);
}
