// 城市安全风险电子地图: the map, its panels and the hooks for automation
// (`window.map`; `data-map-idle` on <body>). Served by riskmap it reads
// /tiles and /api; as a static site (static.js) it reads a PMTiles archive.
import { getJson, isOwn, urlOf } from './api.js';
import { getToken, onTokenChange, setToken } from './auth.js';
import { initAlarms } from './alarms.js';
import { addBasemap, loadBasemap } from './basemap.js';
import { addUnitDangers, dangerListeners, handleMapClick, initDangers } from './dangers.js';
import { closeDetail, initDetail, showEnterprise, showHazard, showPanel, showUnit, showZone } from './detail.js';
import { byId, esc, toast } from './dom.js';
import { initExport, openExport } from './export.js';
import { initHover } from './hover.js';
import { initLabels } from './labels.js';
import { onLive, refreshTiles, reloadSource, startLive, tileRequestOptions } from './live.js';
import { GRID_LEVELS, levelAtZoom, levelLayer, levelZh } from './levels.js';
import { initRanking, initSearch, initToggles, updateLegend } from './panels.js';
import { applyStaticUi, archiveLayers, hasPrivate, openArchive, staticSource, tileCounts } from './static.js';
import { drawLegendSymbols, loadStyle, provideImages } from './style.js';
import { initDomains } from './domains.js';
import { showIdentity } from './identity.js';
import { setMapDay, showTrend } from './trend.js';
import { initTimeline } from './timeline.js';
import { initFilters } from './filters.js';

/** Fonts for Chinese characters, drawn in the browser. */
const CJK_FONTS = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif";
const SOURCE = 'riskmap';
/** MapLibre's control texts in Chinese (公里/米, 放大/缩小). */
const LOCALE = {
  'NavigationControl.ZoomIn': '放大',
  'NavigationControl.ZoomOut': '缩小',
  'NavigationControl.ResetBearing': '重置方向',
  'ScaleControl.Feet': '英尺',
  'ScaleControl.Meters': '米',
  'ScaleControl.Kilometers': '公里',
  'ScaleControl.Miles': '英里',
  'ScaleControl.NauticalMiles': '海里',
  'AttributionControl.ToggleAttribution': '数据来源',
  'AttributionControl.MapFeedback': '地图反馈',
  'FullscreenControl.Enter': '全屏',
  'FullscreenControl.Exit': '退出全屏',
  'GeolocateControl.FindMyLocation': '定位',
  'GeolocateControl.LocationNotAvailable': '无法定位',
  'Popup.Close': '关闭',
};
const FILL_LAYERS = GRID_LEVELS.map((l) => `${l.layer}-fill`);
const POINT_LAYERS = ['enterprises-cluster', 'enterprises-point', 'hazard-sources-symbol'];
const CLICKABLE = [...POINT_LAYERS, 'collapse-zones-fill', ...FILL_LAYERS];

const state = {
  map: null,
  bands: {},
  attribution: '',
  scope: '全市 · 区县',
  selected: null,
  /** The static edition's archive ({ url, site, header, metadata }), or null. */
  archive: null,
  /** The day the map shows ('YYYY-MM-DD'), or null for today. */
  date: null,
};

function setIdle(idle) {
  document.body.dataset.mapIdle = String(idle);
}

/** Shows a failure that stops the page in the loading overlay. */
function fatal(message) {
  const box = byId('loading');
  box.classList.remove('done');
  box.innerHTML = `<p style="color:#b3261e;font-weight:600">${esc(message)}</p>
    <button class="btn outline" type="button">重新加载</button>`;
  box.querySelector('button').addEventListener('click', () => window.location.reload());
}

/** Adds the token to requests for this server; keeps tile URLs on this server. */
function transformRequest(url, resourceType) {
  if (state.archive) return { url };
  if (resourceType === 'Tile' && !isOwn(url)) {
    const m = url.match(/\/tiles\/(\d+\/\d+\/\d+\.mvt)(\?.*)?$/);
    if (m) url = urlOf(`tiles/${m[1]}`) + (m[2] ?? '');
  }
  // A past day on the map: its tiles (a tile that names its day keeps it).
  if (resourceType === 'Tile' && state.date && isOwn(url) && !/[?&]date=/.test(url)) {
    url += `${url.includes('?') ? '&' : '?'}date=${state.date}`;
  }
  const token = getToken();
  // A tile a live write touched is revalidated rather than read from cache.
  const live = resourceType === 'Tile' ? tileRequestOptions(url) : {};
  // credentials: 'omit' keeps the browser's own login box away on a 401.
  if (token && isOwn(url)) {
    return { url, headers: { Authorization: `Bearer ${token}` }, credentials: 'omit', ...live };
  }
  return { url, ...live };
}

// --- selection ------------------------------------------------------------------

/** Outlines the selected unit and, for a grid manager, his own unit. */
function highlight(code, level) {
  const map = state.map;
  if (!map) return;
  const own = state.scopeUnit;
  for (const l of GRID_LEVELS) {
    const id = `${l.layer}-selected`;
    const codes = [l.key === level ? code : '', own?.level === l.key ? own.code : ''].filter(Boolean);
    if (map.getLayer(id)) map.setFilter(id, ['in', ['get', 'code'], ['literal', codes]]);
  }
}

function selectUnit(props) {
  state.selected = props;
  highlight(props.code, props.level);
  showUnit(props);
}

function clearSelection() {
  state.selected = null;
  if (state.map) highlight('', '');
}

/** Waits until the map has finished moving and loading. */
function settled(map) {
  return new Promise((resolve) => {
    if (!map.isMoving() && map.loaded()) resolve();
    else map.once('idle', () => resolve());
  });
}

/** The tile properties of the unit `code`, if a loaded tile has it. */
function unitProps(code, level) {
  const feats = state.map.querySourceFeatures(SOURCE, {
    sourceLayer: levelLayer(level),
    filter: ['==', ['get', 'code'], code],
  });
  return feats[0]?.properties;
}

/** The name of a unit's parent, if a loaded tile has it. */
function parentNameOf(props) {
  const idx = GRID_LEVELS.findIndex((l) => l.key === props.level);
  if (idx < 1 || !props.parent_code) return null;
  return unitProps(props.parent_code, GRID_LEVELS[idx - 1].key)?.name ?? props.parent_code;
}

/** Frames and outlines the signed-in grid manager's unit once the map is there. */
function landOnScope(scope) {
  state.scopeUnit = { code: scope.code, level: scope.level };
  const go = () => {
    highlight(state.selected?.code ?? '', state.selected?.level ?? '');
    state.map.fitBounds(scope.bbox, { padding: fitPadding(), maxZoom: 16, duration: 900 });
  };
  // Before the style is in, wait for it; after, fly at once (tiles that
  // are still loading are waited for by focusUnit).
  if (state.styleReady) go();
  else state.pendingLanding = go;
}

/** Flies to a grid unit by code and selects it. */
async function focusUnit(code, known) {
  let item = known;
  if (!item?.bbox) {
    try {
      const body = await getJson('api/search', { q: code, limit: 5 });
      item = (body.items ?? []).find((i) => i.kind === 'grid_unit' && i.id === code);
    } catch (e) {
      toast(`定位失败：${e.message}`);
      return;
    }
    if (!item) {
      toast(`未找到代码为 ${code} 的区划`);
      return;
    }
  }
  const map = state.map;
  // Selecting the unit opens the detail panel: frame it beside the panel.
  map.fitBounds(item.bbox, { padding: fitPadding(true), maxZoom: 16, duration: 900 });
  await settled(map);
  const props = unitProps(item.id, item.level) ?? { code: item.id, name: item.name, level: item.level };
  selectUnit(props);
}

/**
 * Padding that keeps a framed box clear of the detail panel (open, or
 * about to open when `panel`): beside it on a wide screen, above it (a
 * bottom sheet) on a narrow one.
 */
function fitPadding(panel = false) {
  const detail = byId('detail');
  const open = panel || !detail.hidden;
  const canvas = state.map.getCanvas();
  const narrow = window.innerWidth < 760;
  if (!open) return narrow ? 30 : 40;
  if (narrow) return { top: 30, left: 20, right: 20, bottom: Math.round(canvas.clientHeight * 0.58) + 20 };
  return { top: 40, bottom: 40, left: 40, right: 340 + 12 + 40 };
}

/** Flies to a point feature found by search and marks it. */
async function focusPoint(item) {
  const map = state.map;
  const [w, s, e, n] = item.bbox;
  const center = [(w + e) / 2, (s + n) / 2];
  map.flyTo({ center, zoom: Math.max(map.getZoom(), 15), duration: 900 });
  await settled(map);
  new window.maplibregl.Popup({ closeButton: true, maxWidth: '260px' })
    .setLngLat(center)
    .setHTML(`<b>${esc(item.name)}</b><br><span style="color:#7a8794">${esc(item.id)}</span>`)
    .addTo(map);
}

// --- map events ------------------------------------------------------------------

function onClick(e) {
  const map = state.map;
  if (handleMapClick(e)) return;
  const { x, y } = e.point;
  const near = [[x - 6, y - 6], [x + 6, y + 6]];
  const visible = (ids) => ids.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
  const points = map.queryRenderedFeatures(near, { layers: visible(POINT_LAYERS) });
  const cluster = points.find((f) => f.layer.id === 'enterprises-cluster');
  if (cluster) {
    map.easeTo({ center: cluster.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, 18), duration: 600 });
    return;
  }
  const hazard = points.find((f) => f.layer.id === 'hazard-sources-symbol');
  if (hazard) { clearSelection(); showHazard(hazard.properties); return; }
  const ent = points.find((f) => f.layer.id === 'enterprises-point');
  if (ent) { clearSelection(); showEnterprise(ent.properties); return; }
  const areas = map.queryRenderedFeatures(e.point, { layers: visible(['collapse-zones-fill', ...FILL_LAYERS]) });
  const zone = areas.find((f) => f.layer.id === 'collapse-zones-fill');
  if (zone) { clearSelection(); showZone(zone.properties); return; }
  const unit = areas.find((f) => FILL_LAYERS.includes(f.layer.id));
  if (unit) selectUnit(unit.properties);
  else closeDetail();
}

/**
 * The smallest unit that holds every unit of `level` drawn in the view
 * (their common ancestor), as `{ code, name }`, or null for the whole city.
 */
function viewScope(map, level) {
  const idx = GRID_LEVELS.findIndex((l) => l.key === level);
  if (idx < 1) return null;
  const drawn = map.queryRenderedFeatures({ layers: [`${levelLayer(level)}-fill`] });
  if (!drawn.length) return null;
  let codes = new Set(drawn.map((f) => f.properties.parent_code ?? ''));
  for (let up = idx - 1; up >= 0; up--) {
    if (codes.has('')) return null;
    if (codes.size === 1) {
      const code = [...codes][0];
      return { code, name: unitProps(code, GRID_LEVELS[up].key)?.name ?? code };
    }
    if (up === 0) return null;
    codes = new Set([...codes].map((c) => unitProps(c, GRID_LEVELS[up].key)?.parent_code ?? ''));
  }
  return null;
}

/**
 * Legend scope: the smallest unit that holds every unit drawn in the view
 * (统计范围：鲤城区), else the whole city; its counts are /api/stats of it.
 */
function refreshLegend() {
  const map = state.map;
  const level = levelAtZoom(state.bands, map.getZoom());
  const scope = viewScope(map, level);
  const within = scope?.code ?? null;
  const scopeName = scope?.name ?? '全市';
  state.scope = `${scopeName} · ${levelZh(level)}`;
  // A past day: count the units of the tiles drawn (/api/stats counts today).
  const local = state.archive || state.date ? (l, w) => tileCounts(map, SOURCE, l, w) : undefined;
  updateLegend(level, within, scopeName, local);
}

function onMapError(e) {
  const err = e.error ?? {};
  const status = err.status;
  if (status === 401 && getToken()) {
    setToken(null);
    toast('登录已失效，请重新登录。');
    return;
  }
  if (status === 404 || status === 204) return; // no data there
  const what = e.sourceId ? '地图数据' : '地图';
  toast(`${what}加载失败：${status ? `服务器返回 ${status}` : (err.message || '未知错误')}`);
}

// --- sign-in ------------------------------------------------------------------------

function initAuth() {
  const dialog = byId('signin-dialog');
  const input = byId('token-input');
  const error = byId('signin-error');
  const submit = byId('signin-submit');
  const openDialog = () => {
    error.hidden = true;
    input.value = '';
    dialog.showModal();
    input.focus();
  };
  byId('signin-btn').addEventListener('click', openDialog);
  byId('signin-cancel').addEventListener('click', () => dialog.close());
  byId('signout-btn').addEventListener('click', () => {
    setToken(null);
    toast('已退出登录。', 'info');
  });
  byId('signin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    submit.disabled = true;
    error.hidden = true;
    try {
      await getJson('api/stats', {}, { token });
      setToken(token);
      dialog.close();
      toast('登录成功：已显示重大危险源和生产经营单位。', 'info');
    } catch (err) {
      error.textContent = err.status === 401 ? '令牌无效，请核对后重试。' : err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  const show = (token, land) => {
    document.body.classList.toggle('is-signed-in', Boolean(token));
    byId('signin-btn').hidden = Boolean(token);
    byId('signed-in').hidden = !token;
    if (!token && state.scopeUnit) {
      state.scopeUnit = null;
      highlight(state.selected?.code ?? '', state.selected?.level ?? '');
    }
    showIdentity(token, land ? landOnScope : (scope) => {
      state.scopeUnit = { code: scope.code, level: scope.level };
      if (state.styleReady) highlight(state.selected?.code ?? '', state.selected?.level ?? '');
    });
  };
  // A grid manager lands on his unit: at sign-in, or on opening the page
  // without a view in the URL.
  show(getToken(), !/^#\d/.test(window.location.hash));
  onTokenChange((token) => {
    show(token, true);
    const map = state.map;
    if (map) reloadSource(map, SOURCE, (source) => source.setUrl(urlOf('tiles.json')));
    if (document.body.dataset.view !== 'change') state.applyDomain?.();
    if (state.selected && !byId('detail').hidden) showUnit(state.selected);
    else closeDetail();
  });
  return openDialog;
}

// --- live updates ---------------------------------------------------------------

/** A day `YYYY-MM-DD` as 2026年12月6日. */
const dayZh = (d) => {
  const m = String(d ?? '').match(/^(\d{4})-(\d{2})-(\d{2})$/);
  return m ? `${Number(m[1])}年${Number(m[2])}月${Number(m[3])}日` : '';
};

/** The subtitle: 数据截至 the data's as-of day, with the data version on hover. */
function showDataDate(asOf, version) {
  const el = byId('subtitle');
  if (asOf) state.asOf = asOf;
  if (version) state.version = version;
  if (state.asOf) el.textContent = `安全风险分级管控 · 数据截至 ${dayZh(state.asOf)}`;
  if (state.version) el.title = `数据版本 ${state.version}`;
}

/** Follows `/api/events`: tiles of the written area, the unit shown, the legend. */
function initLive(map) {
  const reshow = (units) => {
    const sel = state.selected;
    if (!sel || byId('detail').hidden) return;
    const u = units ? units.find((x) => x.code === sel.code) : sel;
    if (!u) return;
    state.selected = { ...sel, risk_score: u.risk_score, risk_level: u.risk_level };
    showUnit(state.selected, { keepScroll: true });
  };
  // Writes may come by the hundred a second: the first is applied at once,
  // those within the next 200 ms are gathered (the union of their areas,
  // the latest scores) and applied together.
  let pending = null;
  let cooling = false;
  const flush = () => {
    if (!pending) { cooling = false; return; }
    const { bbox, units, version } = pending;
    pending = null;
    cooling = true;
    setTimeout(flush, 200);
    refreshTiles(map, SOURCE, bbox);
    // A server that lets tiles lag the writes (`[tiles] stale_ms`) may
    // answer this refresh with the state before the write: once the lag
    // has run out, the area is asked for again and built as it is.
    if (state.staleMs > 0) setTimeout(() => refreshTiles(map, SOURCE, bbox), state.staleMs + 100);
    reshow([...units.values()]);
    refreshLegend();
    if (version) showDataDate(null, version);
  };
  onLive('scores', (ev) => {
    pending ??= { bbox: null, units: new Map(), version: null };
    const b = ev.bbox;
    if (Array.isArray(b) && b.length === 4) {
      pending.bbox = pending.bbox
        ? [Math.min(pending.bbox[0], b[0]), Math.min(pending.bbox[1], b[1]), Math.max(pending.bbox[2], b[2]), Math.max(pending.bbox[3], b[3])]
        : b;
    }
    for (const u of ev.units ?? []) pending.units.set(u.code, u);
    pending.version = ev.data_version ?? pending.version;
    if (!cooling) flush();
  });
  onLive('hidden_danger', dangerListeners.hidden_danger);
  onLive('resync', () => {
    refreshTiles(map, SOURCE);
    dangerListeners.resync();
    reshow(null);
    refreshLegend();
  });
  startLive();
}

// --- narrow screens -------------------------------------------------------------

function initDrawer() {
  const toggle = byId('sidebar-toggle');
  const scrim = byId('scrim');
  const set = (open) => {
    document.body.classList.toggle('sidebar-open', open);
    toggle.setAttribute('aria-expanded', String(open));
    scrim.hidden = !open;
  };
  toggle.addEventListener('click', () => set(!document.body.classList.contains('sidebar-open')));
  scrim.addEventListener('click', () => set(false));
  return () => set(false);
}

// --- start ----------------------------------------------------------------------------

/**
 * The static edition's style and TileJSON-like facts: the style with its
 * `riskmap` source read from the archive, bounds and attribution from it.
 */
async function staticConfig(source) {
  state.archive = await openArchive(source);
  const { url, header, metadata } = state.archive;
  applyStaticUi(state.archive);
  const style = await loadStyle();
  style.sources[SOURCE].url = `pmtiles://${url}`;
  // Draw only the layers the archive holds (a public one has no
  // enterprises or hazard sources).
  const held = new Set(archiveLayers(metadata));
  if (held.size) style.layers = style.layers.filter((l) => l.source !== SOURCE || held.has(l['source-layer']));
  const tilejson = {
    bounds: [header.minLon, header.minLat, header.maxLon, header.maxLat],
    attribution: metadata.attribution ?? '',
  };
  return [style, tilejson];
}

async function start() {
  setIdle(false);
  const staticFrom = staticSource();
  const signIn = staticFrom ? () => {} : initAuth();
  const closeDrawer = initDrawer();
  initExport();
  drawLegendSymbols();
  if (!window.maplibregl) {
    fatal('地图组件加载失败，请刷新页面重试。');
    return;
  }
  let style;
  let tilejson;
  const basemap = loadBasemap();
  const loadConfig = () => (staticFrom
    ? staticConfig(staticFrom)
    : Promise.all([loadStyle(), getJson('tiles.json')]));
  try {
    try {
      [style, tilejson] = await loadConfig();
    } catch (e) {
      // The tab's token was revoked or has expired since sign-in: the
      // server refuses every request carrying it. Sign out, say so, and
      // load the public map.
      if (e.status !== 401 || staticFrom || !getToken()) throw e;
      setToken(null);
      toast('登录已失效，请重新登录。');
      [style, tilejson] = await loadConfig();
    }
  } catch (e) {
    fatal(`地图配置加载失败：${e.message}`);
    return;
  }
  state.bands = style.metadata?.['riskmap:levels'] ?? {};
  state.staleMs = Number(tilejson['riskmap:stale_ms']) || 0;
  const basemapCredit = addBasemap(style, await basemap);
  state.attribution = [tilejson.attribution, basemapCredit].filter(Boolean).join('；');
  const hasView = /^#\d/.test(window.location.hash);
  let map;
  try {
    map = new window.maplibregl.Map({
      container: 'map',
      style,
      hash: true,
      bounds: hasView ? undefined : tilejson.bounds,
      fitBoundsOptions: { padding: 20 },
      maxZoom: 18,
      localIdeographFontFamily: CJK_FONTS,
      locale: LOCALE,
      transformRequest,
      attributionControl: false,
      canvasContextAttributes: { preserveDrawingBuffer: true },
    });
  } catch (e) {
    fatal(`无法创建地图（浏览器可能不支持 WebGL）：${e.message}`);
    return;
  }
  state.map = map;
  window.map = map;
  provideImages(map);
  map.addControl(new window.maplibregl.NavigationControl({ visualizePitch: false, showCompass: false }), 'top-left');
  map.addControl(new window.maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-left');
  map.addControl(new window.maplibregl.AttributionControl({ compact: true }), 'bottom-left');
  map.touchZoomRotate.disableRotation();
  map.dragRotate.disable();

  map.on('dataloading', () => setIdle(false));
  map.on('movestart', () => setIdle(false));
  map.on('idle', () => setIdle(true));
  map.on('error', onMapError);
  map.once('idle', () => {
    byId('loading').classList.add('done');
    // Start with the attribution folded into its (i) button.
    document.querySelector('.maplibregl-ctrl-attrib')?.classList.remove('maplibregl-compact-show');
  });
  map.on('load', () => {
    state.styleReady = true;
    initToggles(map);
    if (state.pendingLanding) {
      const go = state.pendingLanding;
      state.pendingLanding = null;
      go();
    }
    const signedIn = () => (state.archive ? hasPrivate(state.archive.metadata) : Boolean(getToken()));
    state.applyDomain = initDomains(map, signedIn);
  });
  // The legend follows the view once its tiles are in.
  let legendView = '';
  map.on('idle', () => {
    const view = `${map.getZoom().toFixed(2)}/${map.getCenter().lng.toFixed(4)}/${map.getCenter().lat.toFixed(4)}`;
    if (view !== legendView) { legendView = view; refreshLegend(); }
  });
  initLabels(map);
  initHover(map);
  map.on('click', onClick);
  for (const id of CLICKABLE) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }

  byId('export-btn').addEventListener('click', async () => {
    await settled(map);
    const signedIn = state.archive ? hasPrivate(state.archive.metadata) : Boolean(getToken());
    openExport(map, {
      scope: state.scope,
      attribution: state.attribution,
      signedIn,
      asOf: state.date ? `${dayZh(state.date)}（历史）` : (state.asOf ? dayZh(state.asOf) : ''),
      defaultTitle: '城市安全风险分布图',
      mapOptions: { transformRequest, localIdeographFontFamily: CJK_FONTS, locale: LOCALE, maxZoom: 18 },
    });
  });
  if (state.archive) {
    initDetail({ onClose: clearSelection, staticEdition: true, parentName: parentNameOf });
    return;
  }
  initDetail({
    onClose: clearSelection, focusUnit: (code) => focusUnit(code), signIn, afterUnit: addUnitDangers, trend: showTrend,
  });
  // Esc closes the open panel (dialogs close themselves).
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented || document.querySelector('dialog[open]')) return;
    if (e.target?.id === 'search-input') return;
    if (!byId('detail').hidden) { closeDetail(); return; }
    closeDrawer();
  });
  initDangers(map, { closeDrawer, clearSelection, showPanel });
  initAlarms(map);
  initFilters(map, { source: SOURCE, setBusy: () => { setIdle(false); map.triggerRepaint(); } });
  initLive(map);
  initRanking((item) => { closeDrawer(); focusUnit(item.code); });
  initSearch((item) => {
    closeDrawer();
    if (item.kind === 'grid_unit') focusUnit(item.id, item);
    else focusPoint(item);
  });
  let health = null;
  try {
    health = await getJson('health');
    showDataDate(health.as_of, health.data_version);
  } catch { /* the subtitle keeps its default */ }
  // Right after a start the server may still be opening its history:
  // ask again until it is there, then offer the timeline.
  for (let tries = 0; health?.history_opening && tries < 150; tries++) {
    await new Promise((r) => setTimeout(r, 2000));
    try { health = await getJson('health'); } catch { break; }
  }
  if (health?.history) {
    const timeline = () => {
      const t = initTimeline(map, {
        source: SOURCE,
        asOf: health.history.last,
        first: health.history.first,
        applyDomain: () => state.applyDomain?.(),
        setBusy: () => { setIdle(false); map.triggerRepaint(); },
        onDate: (day) => {
          state.date = day;
          map.once('idle', refreshLegend);
          if (state.selected && !byId('detail').hidden) showUnit(state.selected, { keepScroll: true });
        },
      });
      setMapDay(t.day);
    };
    if (state.styleReady) timeline(); else map.once('load', timeline);
  }
}

start();
