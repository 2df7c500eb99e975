// The 分系统 (per-domain) view: recolours the grid units by one domain's
// contribution to their risk score, read from the tiles' `domain_<word>`
// properties (one decimal, absent when 0). Unit cells carry them only for
// a signed-in user whose scope opens the cell; elsewhere they read as 0.
import { byId, esc } from './dom.js';
import { GRID_LEVELS, domainZh } from './levels.js';

/** The domains, in the server's order: each industry, then the rest. */
export const DOMAINS = [
  'hazardous_chemicals', 'fireworks', 'mining', 'metallurgy', 'nonferrous', 'dust_explosion',
  'ammonia_refrigeration', 'confined_space', 'gas', 'construction', 'crowded_place', 'warehousing',
  'general_manufacturing', 'hazard_sources', 'collapse_zones', 'hidden_dangers', 'alarms',
];

/** Class breaks of a domain's contribution (score points, 0–100). */
export const DOMAIN_BREAKS = [0.1, 5, 10, 20, 40];

/** The colour of no contribution, then one per class (ColorBrewer BuPu). */
export const DOMAIN_ZERO = '#eef1f4';
export const DOMAIN_RAMP = ['#bfd3e6', '#9ebcda', '#8c96c6', '#8856a7', '#810f7c'];

/** The tile property of a domain. */
export const domainProperty = (d) => `domain_${d}`;

/** The style expression colouring a unit by domain `d`. */
export function domainColor(d) {
  const expr = ['step', ['coalesce', ['get', domainProperty(d)], 0], DOMAIN_ZERO];
  DOMAIN_BREAKS.forEach((b, i) => expr.push(b, DOMAIN_RAMP[i]));
  return expr;
}

/** The legend rows: [min, max) with its colour (max null: open). */
export function domainClasses() {
  const rows = [{ min: 0, max: DOMAIN_BREAKS[0], color: DOMAIN_ZERO, label: '无贡献' }];
  DOMAIN_BREAKS.forEach((b, i) => {
    const max = DOMAIN_BREAKS[i + 1] ?? null;
    rows.push({ min: b, max, color: DOMAIN_RAMP[i], label: max === null ? `≥ ${b}` : `${b} – ${max}` });
  });
  return rows;
}

const fillLayers = () => GRID_LEVELS.map((l) => `${l.layer}-fill`);

/**
 * Fills the domain selector and wires it to `map`: a domain recolours every
 * grid level (no tile is fetched again: the values are in the tiles
 * already), "综合风险" puts the style's four risk colours back.
 * `signedIn()` says whether the tiles' cells can carry domain values.
 */
export function initDomains(map, signedIn) {
  const select = byId('domain-select');
  select.innerHTML = ['<option value="">综合风险</option>',
    ...DOMAINS.map((d) => `<option value="${d}">${esc(domainZh(d))}</option>`)].join('');
  const original = Object.fromEntries(fillLayers()
    .filter((id) => map.getLayer(id))
    .map((id) => [id, map.getPaintProperty(id, 'fill-color')]));
  const legend = byId('domain-legend');
  legend.innerHTML = domainClasses().map((c) => `
    <li data-min="${c.min}" data-max="${c.max ?? ''}" data-color="${c.color}">
      <i class="swatch" style="background:${c.color}"></i><span class="name">${esc(c.label)}</span></li>`).join('');
  const apply = () => {
    const d = select.value;
    for (const [id, paint] of Object.entries(original)) {
      map.setPaintProperty(id, 'fill-color', d ? domainColor(d) : paint);
    }
    document.body.dataset.domain = d;
    byId('legend-title').textContent = d ? `${domainZh(d)} 贡献分` : '风险等级';
    legend.hidden = !d;
    byId('legend-list').hidden = Boolean(d);
    byId('legend-bar').hidden = Boolean(d);
    byId('domain-hint').hidden = !d || signedIn();
  };
  select.addEventListener('change', apply);
  apply();
  return apply;
}
