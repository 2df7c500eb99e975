// Name labels: one point per grid unit. Vector tiles cut a unit into one
// piece per tile, and labelling the pieces would repeat a name in every
// tile, so the page joins the pieces by code and places one label inside
// the whole unit, in the style's GeoJSON source `labels`.
import { GRID_LEVELS } from './levels.js';

const SOURCE = 'riskmap';
const LABELS = 'labels';

/** Signed area and centroid terms of a ring (planar lon/lat). */
function ringTerms(ring) {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x0, y0] = ring[j];
    const [x1, y1] = ring[i];
    const f = x0 * y1 - x1 * y0;
    a += f;
    cx += (x0 + x1) * f;
    cy += (y0 + y1) * f;
  }
  return { a: a / 2, cx, cy };
}

/** Whether (x, y) is inside a polygon (rings, even-odd). */
function inside(polygon, x, y) {
  let hit = false;
  for (const ring of polygon) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
    }
  }
  return hit;
}

/** The middle of the widest horizontal run through `polygon`. */
function widestRun(polygon) {
  const ys = polygon[0].map((p) => p[1]);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  let best = null;
  for (let k = 1; k <= 9; k++) {
    const y = lo + ((hi - lo) * k) / 10;
    const xs = [];
    for (const ring of polygon) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if ((yi > y) !== (yj > y)) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
      }
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const w = xs[i + 1] - xs[i];
      if (!best || w > best.w) best = { w, x: (xs[i] + xs[i + 1]) / 2, y };
    }
  }
  return best ? [best.x, best.y] : polygon[0][0];
}

/** A point inside the union of `polygons`: the centroid if inside, else the largest piece's widest run. */
export function labelPoint(polygons) {
  let area = 0;
  let cx = 0;
  let cy = 0;
  let largest = null;
  for (const polygon of polygons) {
    let pa = 0;
    for (const ring of polygon) {
      const t = ringTerms(ring);
      pa += t.a;
      area += t.a;
      cx += t.cx;
      cy += t.cy;
    }
    if (!largest || Math.abs(pa) > largest.a) largest = { a: Math.abs(pa), polygon };
  }
  if (!largest) return null;
  if (area !== 0) {
    const x = cx / (6 * area);
    const y = cy / (6 * area);
    if (polygons.some((p) => inside(p, x, y))) return [x, y];
  }
  return widestRun(largest.polygon);
}

/**
 * A unit's name as a map label: without the committee suffix
 * (金山社区居委会 → 金山社区), which only doubles a label's lines.
 */
export function labelName(name) {
  return String(name ?? '').replace(/(居民委员会|村民委员会|居委会|村委会)$/, '') || String(name ?? '');
}

/** The label features of one tile layer, one per code. */
function unitLabels(map, level, sourceLayer) {
  const byCode = new Map();
  for (const f of map.querySourceFeatures(SOURCE, { sourceLayer })) {
    const code = f.properties.code;
    if (!code) continue;
    let entry = byCode.get(code);
    if (!entry) {
      entry = { props: f.properties, polygons: [] };
      byCode.set(code, entry);
    }
    const g = f.geometry;
    if (g.type === 'Polygon') entry.polygons.push(g.coordinates);
    else if (g.type === 'MultiPolygon') entry.polygons.push(...g.coordinates);
  }
  const out = [];
  for (const [code, { props, polygons }] of byCode) {
    const at = labelPoint(polygons);
    if (!at) continue;
    out.push({
      type: 'Feature',
      properties: { code, level, name: labelName(props.name), risk_score: props.risk_score ?? 0 },
      geometry: { type: 'Point', coordinates: at },
    });
  }
  return out;
}

/** Whether a label layer of `level` shows at the map's zoom. */
function labelsShown(map, level) {
  const z = map.getZoom();
  return map.getStyle().layers.some((l) => l.source === LABELS
    && JSON.stringify(l.filter ?? '').includes(`"${level}"`)
    && z >= (l.minzoom ?? 0) - 0.5 && z < (l.maxzoom ?? 24) + 0.5);
}

/** Keeps the `labels` source in step with the loaded tiles. */
export function initLabels(map) {
  let dirty = true;
  map.on('sourcedata', (e) => {
    if (e.sourceId === SOURCE && (e.tile || e.sourceDataType === 'content')) dirty = true;
  });
  map.on('zoomend', () => { dirty = true; });
  map.on('idle', () => {
    if (!dirty || !map.getSource(LABELS)) return;
    dirty = false;
    const features = [];
    for (const l of GRID_LEVELS) {
      if (labelsShown(map, l.key)) features.push(...unitLabels(map, l.key, l.layer));
    }
    map.getSource(LABELS).setData({ type: 'FeatureCollection', features });
  });
}
