// The basemap beneath the risk map, so that a cell can be placed without
// any outside tile server: the land of the province or city and the names
// of towns and settlements at their real places, which the server reads
// from its own files and describes at /basemap.json; or, where a site
// allows one, an outside raster basemap named there. A server with the
// basemap off, or a static site without one, draws none.
import { urlOf } from './api.js';

/** Fill of the land; the map's background stands for sea and outside. */
export const LAND_COLOUR = '#f4f1ea';
const COAST_COLOUR = '#8fa9bf';
const PLACE_COLOUR = '#4a5561';
const GROUP = { 'riskmap:group': 'basemap' };

/** The server's basemap description, or null when it has none. */
export async function loadBasemap() {
  try {
    const resp = await fetch(urlOf('basemap.json'), { credentials: 'omit' });
    if (!resp.ok) return null;
    const body = await resp.json();
    return typeof body?.land === 'string' || body?.raster?.length ? body : null;
  } catch {
    return null;
  }
}

/** Inserts `layers` into `style` before the layer `beforeId` (else at the end). */
function insert(style, beforeId, layers) {
  const at = style.layers.findIndex((l) => l.id === beforeId);
  style.layers.splice(at < 0 ? style.layers.length : at, 0, ...layers);
}

/**
 * Adds the basemap of `basemap` (from `loadBasemap`) to `style`: land and
 * coastline beneath the risk map, place dots and names above its fills but
 * beneath its points and unit names; or the raster layers instead. Returns
 * the basemap's credits ('' for none).
 */
export function addBasemap(style, basemap) {
  if (!basemap) return '';
  const firstFill = style.layers.find((l) => l.type !== 'background')?.id;
  const credits = [];
  if (basemap.raster?.length) {
    const layers = basemap.raster.map((r, i) => {
      const id = `basemap-raster-${i}`;
      style.sources[id] = { type: 'raster', tiles: r.tiles, tileSize: 256, maxzoom: 18 };
      if (r.attribution) {
        style.sources[id].attribution = r.attribution;
        credits.push(r.attribution);
      }
      return { id, type: 'raster', source: id, metadata: GROUP };
    });
    insert(style, firstFill, layers);
    return credits.join('；');
  }
  style.sources['basemap-land'] = { type: 'geojson', data: urlOf(basemap.land) };
  style.sources['basemap-places'] = { type: 'geojson', data: urlOf(basemap.places) };
  if (basemap.attribution) {
    style.sources['basemap-land'].attribution = basemap.attribution;
    credits.push(basemap.attribution);
  }
  insert(style, firstFill, [
    { id: 'basemap-land', type: 'fill', source: 'basemap-land', metadata: GROUP, paint: { 'fill-color': LAND_COLOUR } },
    {
      id: 'basemap-coast',
      type: 'line',
      source: 'basemap-land',
      metadata: GROUP,
      paint: { 'line-color': COAST_COLOUR, 'line-width': ['interpolate', ['linear'], ['zoom'], 6, 0.8, 12, 2.2] },
    },
  ]);
  // Settlements: a dot from street-block zoom, the name once the town
  // names of the grid have given way to cells.
  insert(style, 'enterprises-point', [{
    id: 'basemap-place-dot',
    type: 'circle',
    source: 'basemap-places',
    minzoom: 10.5,
    metadata: GROUP,
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 10.5, 2, 14, 3.5],
      'circle-color': PLACE_COLOUR,
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 1.2,
    },
  }]);
  insert(style, style.layers.find((l) => l.type === 'symbol' && l.id.endsWith('-label'))?.id, [{
    id: 'basemap-place-label',
    type: 'symbol',
    source: 'basemap-places',
    minzoom: 12.5,
    metadata: GROUP,
    layout: {
      'text-field': ['get', 'name'],
      'text-font': ['Noto Sans CJK SC Regular'],
      'text-size': 12,
      'text-anchor': 'top',
      'text-offset': [0, 0.45],
      'text-max-width': 8,
      'symbol-sort-key': ['get', 'rank'],
    },
    paint: { 'text-color': PLACE_COLOUR, 'text-halo-color': 'rgba(255,255,255,0.92)', 'text-halo-width': 1.6 },
  }]);
  return credits.join('；');
}
