// The export view: the current map as a PNG with title, legend, scale bar,
// north arrow, date and data attribution, previewed in a dialog; at screen
// size, or printed on A4/A3 landscape at 300 dpi (the map drawn again at
// that resolution), with an editable title and 制图单位 kept in the PNG.
import { byId } from './dom.js';
import { RISK_LEVELS } from './levels.js';
import { drawCluster, drawHatch, drawHazard, provideImages } from './style.js';
import { pngWithText } from './png.js';

const FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif';

/** Metres per CSS pixel at the map's centre (512-pixel tiles). */
function metresPerPixel(map) {
  const lat = map.getCenter().lat;
  return (40075016.686 * Math.cos((lat * Math.PI) / 180)) / (512 * 2 ** map.getZoom());
}

/** The longest "nice" distance (1, 2, 5 × 10ⁿ m) that fits `maxPx`. */
function niceScale(mpp, maxPx) {
  const max = mpp * maxPx;
  const pow = 10 ** Math.floor(Math.log10(max));
  const d = [5, 2, 1].map((m) => m * pow).find((v) => v <= max) ?? pow;
  return { metres: d, px: d / mpp, text: d >= 1000 ? `${d / 1000} 公里` : `${d} 米` };
}

function wrap(ctx, text, maxWidth) {
  const lines = [];
  let line = '';
  for (const ch of text) {
    if (ctx.measureText(line + ch).width > maxWidth && line) { lines.push(line); line = ch; } else line += ch;
  }
  if (line) lines.push(line);
  return lines;
}

/** The date as 2025年1月2日. */
const today = () => {
  const d = new Date();
  return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日`;
};

/** Paper sizes (landscape, millimetres) and the print resolution. */
export const PAPERS = { a4: { w: 297, h: 210, zh: 'A4 横向' }, a3: { w: 420, h: 297, zh: 'A3 横向' } };
const DPI = 300;

/** Pixel size of `paper` at 300 dpi. */
export function paperPixels(paper) {
  const p = PAPERS[paper];
  return { w: Math.round((p.w / 25.4) * DPI), h: Math.round((p.h / 25.4) * DPI) };
}

/** The legend's rows: the 分系统 classes or the four risk levels with labelled counts. */
function legendRows() {
  const domainView = Boolean(document.body.dataset.domain);
  const rows = domainView
    ? [...document.querySelectorAll('#domain-legend li')].map((li) => ({
      color: li.dataset.color, label: li.querySelector('.name')?.textContent ?? '', count: '',
    }))
    : RISK_LEVELS.map((r) => {
      const n = document.querySelector(`[data-count="${r.key}"]`)?.textContent ?? '';
      return { color: r.color, label: `${r.zh}风险`, count: /\d/.test(n) ? `${n} 个` : '' };
    });
  const title = domainView ? document.getElementById('legend-title')?.textContent : '风险等级';
  return { rows, title };
}

/**
 * Draws a page on a new canvas: `page` is `{ w, h }` in CSS pixels or
 * null (screen: as wide as the map, as tall as needed), `ratio` device
 * pixels per CSS pixel, `map` `{ canvas, w, h, mpp, bearing }` (its CSS
 * size, metres per CSS pixel). `px` forces the canvas's pixel size.
 */
/**
 * Where things go on a page (CSS pixels): for paper (`page` given) the map
 * fills what the margins, title and credits leave; on screen the page is
 * the map's `size` with the bands added.
 */
function pageLayout(page, size, attribution) {
  const paper = Boolean(page);
  const m = paper ? 28 : 0;
  const pad = 16;
  const head = paper ? 78 : 64;
  const w = paper ? page.w : size.w;
  const probe = document.createElement('canvas').getContext('2d');
  probe.font = `11px ${FONT}`;
  const credit = [`数据来源：${attribution}`, '制图软件：riskmap · 坐标系：WGS 84（Web 墨卡托投影显示）'];
  const footLines = credit.flatMap((c) => wrap(probe, c, w - 2 * m - 2 * pad));
  const foot = 14 + footLines.length * 15 + 8;
  const mapW = paper ? Math.round(w - 2 * m) : size.w;
  const mapH = paper ? Math.round(page.h - 2 * m - head - foot) : size.h;
  const h = paper ? page.h : head + mapH + foot;
  return { paper, m, pad, head, w, h, footLines, mapW, mapH };
}

/** The map's 筛选 in words (kept on its card by filters.js), '' for none. */
function filterNote() {
  const card = document.getElementById('filter-card');
  return card && !card.hidden ? card.dataset.summary ?? '' : '';
}

function drawPage({ page, ratio, px, map, title, unit, scope, attribution, signedIn, asOf }) {
  const { paper, m, pad, head, w, h, footLines, mapW, mapH } = pageLayout(page, map, attribution);
  const out = document.createElement('canvas');
  out.width = px?.w ?? Math.round(w * ratio);
  out.height = px?.h ?? Math.round(h * ratio);
  const ctx = out.getContext('2d');
  ctx.scale(out.width / w, out.height / h);
  const top = m + head;

  // Page and title band: dark on screen, ink-light on paper.
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = paper ? '#ffffff' : '#0f2a4a';
  ctx.fillRect(0, 0, w, top);
  ctx.textBaseline = 'middle';
  ctx.fillStyle = paper ? '#10202e' : '#ffffff';
  ctx.font = `bold ${paper ? 30 : 22}px ${FONT}`;
  ctx.fillText(title, m + pad, m + (paper ? 28 : 26));
  ctx.font = `13px ${FONT}`;
  ctx.fillStyle = paper ? '#4b5866' : 'rgba(255,255,255,0.78)';
  const filter = signedIn ? filterNote() : '';
  ctx.fillText(`安全风险分级 · 统计范围：${scope}${asOf ? ` · 数据截至 ${asOf}` : ''}${filter ? ` · 筛选：${filter}` : ''}`,
    m + pad, m + (paper ? 62 : 49));
  ctx.textAlign = 'right';
  ctx.fillText(`制图单位：${unit || '—'}`, w - m - pad, m + (paper ? 28 : 26));
  ctx.fillText(`制图日期：${today()}`, w - m - pad, m + (paper ? 62 : 49));
  ctx.textAlign = 'left';

  // The map.
  ctx.drawImage(map.canvas, m, top, mapW, mapH);
  ctx.strokeStyle = paper ? '#1d2731' : '#c7cfd8';
  ctx.lineWidth = 1;
  ctx.strokeRect(m + 0.5, top + 0.5, mapW - 1, mapH - 1);

  // Legend, bottom left of the map.
  const { rows, title: legendTitle } = legendRows();
  const symbols = [['hatch', '道路塌陷风险区']];
  if (signedIn) symbols.unshift(['hazard', '重大危险源'], ['cluster', '生产经营单位（聚合，缩放 12 级起）']);
  const lw = 236;
  const lh = 34 + rows.length * 22 + symbols.length * 22 + 8;
  const lx = m + 12;
  const ly = top + mapH - lh - 28;
  ctx.fillStyle = 'rgba(255,255,255,0.94)';
  ctx.strokeStyle = '#b8c2cc';
  ctx.beginPath();
  ctx.roundRect(lx, ly, lw, lh, 6);
  ctx.fill();
  ctx.stroke();
  ctx.fillStyle = '#1d2731';
  ctx.font = `bold 13px ${FONT}`;
  ctx.fillText(`图例 · ${legendTitle}`, lx + 12, ly + 18);
  ctx.font = `12.5px ${FONT}`;
  rows.forEach((r, i) => {
    const y = ly + 38 + i * 22;
    ctx.fillStyle = r.color;
    ctx.fillRect(lx + 12, y - 7, 22, 14);
    ctx.fillStyle = '#1d2731';
    ctx.fillText(r.label, lx + 42, y);
    ctx.textAlign = 'right';
    ctx.fillStyle = '#4b5866';
    ctx.fillText(r.count, lx + lw - 12, y);
    ctx.textAlign = 'left';
  });
  symbols.forEach(([kind, label], i) => {
    const y = ly + 38 + rows.length * 22 + i * 22;
    if (kind === 'hazard') drawHazard(ctx, 1, lx + 14, y - 9, 18);
    else if (kind === 'hatch') drawHatch(ctx, 18, lx + 14, y - 9);
    else drawCluster(ctx, '#fd8d3c', 18, lx + 14, y - 9);
    ctx.fillStyle = '#1d2731';
    ctx.fillText(label, lx + 42, y);
  });

  // Scale bar, bottom right.
  const s = niceScale(map.mpp, 140);
  const sx = m + mapW - 24 - s.px;
  const sy = top + mapH - 22;
  ctx.fillStyle = 'rgba(255,255,255,0.9)';
  ctx.fillRect(sx - 8, sy - 24, s.px + 16, 34);
  ctx.strokeStyle = '#1d2731';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(sx, sy - 6);
  ctx.lineTo(sx, sy);
  ctx.lineTo(sx + s.px, sy);
  ctx.lineTo(sx + s.px, sy - 6);
  ctx.stroke();
  ctx.fillStyle = '#1d2731';
  ctx.font = `12px ${FONT}`;
  ctx.textAlign = 'center';
  ctx.fillText(s.text, sx + s.px / 2, sy - 13);

  // North arrow, top right of the map, turned with the bearing.
  ctx.save();
  ctx.translate(m + mapW - 30, top + 34);
  ctx.rotate((-map.bearing * Math.PI) / 180);
  ctx.fillStyle = 'rgba(255,255,255,0.9)';
  ctx.beginPath();
  ctx.arc(0, 0, 18, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = '#1d2731';
  ctx.beginPath();
  ctx.moveTo(0, -13);
  ctx.lineTo(6, 6);
  ctx.lineTo(0, 2);
  ctx.lineTo(-6, 6);
  ctx.closePath();
  ctx.fill();
  ctx.font = `bold 10px ${FONT}`;
  ctx.fillText('N', 0, 14);
  ctx.restore();
  ctx.textAlign = 'left';

  // Attribution.
  ctx.fillStyle = '#4b5866';
  ctx.font = `11px ${FONT}`;
  footLines.forEach((line, i) => ctx.fillText(line, m + pad, top + mapH + 14 + i * 15));
  return out;
}

/**
 * Draws the export image of the map as on screen. `scope` names the
 * legend's scope (e.g. "全市 · 区县"); `attribution` is the data
 * attribution text; `title` and `unit` (制图单位) head the page.
 */
export function composeExport(map, { scope, attribution, signedIn, title, unit, asOf }) {
  const src = map.getCanvas();
  return drawPage({
    page: null,
    ratio: src.width / src.clientWidth,
    map: { canvas: src, w: src.clientWidth, h: src.clientHeight, mpp: metresPerPixel(map), bearing: map.getBearing() },
    title: title || '城市安全风险电子地图', unit, scope, attribution, signedIn, asOf,
  });
}

/**
 * Draws the map again for `paper` (a4 or a3) at 300 dpi: a second, hidden
 * map of the same style and extent rendered at print resolution, then the
 * page around it. `mapOptions` are the page map's request options.
 */
export async function composePrint(map, paper, opts) {
  const px = paperPixels(paper);
  const ratio = DPI / 96;
  const page = { w: px.w / ratio, h: px.h / ratio };
  const { mapW, mapH } = pageLayout(page, null, opts.attribution);
  const box = document.createElement('div');
  box.style.cssText = `position:fixed;left:-20000px;top:0;width:${mapW}px;height:${mapH}px;visibility:hidden`;
  document.body.append(box);
  const bounds = map.getBounds();
  const printMap = new window.maplibregl.Map({
    ...opts.mapOptions,
    container: box,
    style: map.getStyle(),
    bounds,
    interactive: false,
    attributionControl: false,
    pixelRatio: ratio,
    maxCanvasSize: [8192, 8192],
    fadeDuration: 0,
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  provideImages(printMap);
  try {
    await new Promise((resolve, reject) => {
      printMap.once('idle', resolve);
      printMap.once('error', (e) => { if (!e.sourceId) reject(e.error ?? new Error('地图渲染失败')); });
    });
    const canvas = printMap.getCanvas();
    return drawPage({
      page, ratio, px,
      map: { canvas, w: mapW, h: mapH, mpp: metresPerPixel(printMap), bearing: printMap.getBearing() },
      ...opts,
    });
  } finally {
    printMap.remove();
    box.remove();
  }
}

/** Today as 20250102, for file names. */
const stamp = () => {
  const d = new Date();
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
};

let current = null;
let making = 0;

/** Shows `canvas` in the dialog as a PNG carrying its title and resolution. */
async function showImage(canvas, { title, unit, paper }) {
  const id = ++making;
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  const dpi = paper === 'screen' ? null : DPI;
  const png = await pngWithText(blob, { Title: title, Author: unit, Software: 'riskmap' }, dpi);
  if (id !== making) return;
  const link = byId('export-download');
  if (link.dataset.url) URL.revokeObjectURL(link.dataset.url);
  const url = URL.createObjectURL(png);
  link.dataset.url = url;
  link.dataset.paper = paper;
  link.href = url;
  const size = paper === 'screen' ? '' : `_${PAPERS[paper].zh.replace(' ', '')}`;
  link.download = `城市安全风险电子地图${size}_${stamp()}.png`;
  byId('export-img').src = url;
  byId('export-info').textContent = `${canvas.width} × ${canvas.height} 像素${dpi ? ` · ${dpi} dpi` : ''} · ${(png.size / 1024).toFixed(0)} KB`;
}

/** Draws the export for the dialog's paper, title and 制图单位. */
async function make() {
  if (!current) return;
  const { map, opts } = current;
  const paper = byId('print-paper').value;
  const title = byId('print-title').value.trim() || '城市安全风险电子地图';
  const unit = byId('print-unit').value.trim();
  const all = { ...opts, title, unit };
  const button = byId('print-make');
  button.disabled = true;
  byId('export-info').textContent = paper === 'screen' ? '' : `正在按 ${PAPERS[paper].zh} 300 dpi 重新绘制地图…`;
  try {
    const canvas = paper === 'screen' ? composeExport(map, all) : await composePrint(map, paper, all);
    await showImage(canvas, { title, unit, paper });
  } catch (e) {
    byId('export-info').textContent = `导出失败：${e.message ?? e}`;
  } finally {
    button.disabled = false;
  }
}

/**
 * Opens the export dialog with a fresh screen-size image of the map.
 * `opts`: scope, attribution, signedIn, asOf, mapOptions (for printing),
 * defaultTitle.
 */
export function openExport(map, opts) {
  current = { map, opts };
  const dialog = byId('export-dialog');
  const title = byId('print-title');
  if (!title.value) title.value = opts.defaultTitle ?? '城市安全风险电子地图';
  byId('print-paper').value = 'screen';
  make();
  if (!dialog.open) dialog.showModal();
}

/** Wires the dialog's close button and its print form. */
export function initExport() {
  byId('export-close').addEventListener('click', () => byId('export-dialog').close());
  byId('print-form').addEventListener('submit', (e) => { e.preventDefault(); make(); });
}
