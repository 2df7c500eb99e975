// The export view: the current map as a PNG with title, legend, scale bar,
// north arrow, date and data attribution, previewed in a dialog.
import { byId } from './dom.js';
import { RISK_LEVELS } from './levels.js';
import { drawHatch, drawHazard } from './style.js';

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

/**
 * Draws the export image. `scope` names the legend's scope (e.g.
 * "全市 · 区县"); `attribution` is the data attribution text.
 */
export function composeExport(map, { scope, attribution, signedIn }) {
  const src = map.getCanvas();
  const ratio = src.width / src.clientWidth;
  const w = src.clientWidth;
  const h = src.clientHeight;
  const pad = 16;
  const head = 64;
  const ctxProbe = document.createElement('canvas').getContext('2d');
  ctxProbe.font = `11px ${FONT}`;
  const footLines = wrap(ctxProbe, `数据来源：${attribution}`, w - 2 * pad);
  const foot = 14 + footLines.length * 15 + 8;
  const out = document.createElement('canvas');
  out.width = Math.round(w * ratio);
  out.height = Math.round((head + h + foot) * ratio);
  const ctx = out.getContext('2d');
  ctx.scale(ratio, ratio);

  // Title band.
  ctx.fillStyle = '#0f2a4a';
  ctx.fillRect(0, 0, w, head);
  ctx.fillStyle = '#ffffff';
  ctx.font = `bold 22px ${FONT}`;
  ctx.textBaseline = 'middle';
  ctx.fillText('城市安全风险电子地图', pad, 26);
  ctx.font = `13px ${FONT}`;
  ctx.fillStyle = 'rgba(255,255,255,0.78)';
  ctx.fillText(`安全风险分级 · ${scope}`, pad, 49);
  ctx.textAlign = 'right';
  ctx.fillText(`制图日期：${today()}`, w - pad, 26);
  ctx.textAlign = 'left';

  // The map.
  ctx.drawImage(src, 0, head, w, h);
  ctx.strokeStyle = '#c7cfd8';
  ctx.strokeRect(0.5, head + 0.5, w - 1, h - 1);

  // Legend, bottom left of the map.
  // The 分系统 view draws its own classes; else the four risk levels.
  const domainView = Boolean(document.body.dataset.domain);
  const rows = domainView
    ? [...document.querySelectorAll('#domain-legend li')].map((li) => ({
      color: li.dataset.color, label: li.querySelector('.name')?.textContent ?? '', count: '',
    }))
    : RISK_LEVELS.map((r) => ({
      color: r.color, label: `${r.zh}风险`, count: document.querySelector(`[data-count="${r.key}"]`)?.textContent ?? '',
    }));
  const legendTitle = domainView ? document.getElementById('legend-title')?.textContent : '风险等级';
  const symbols = [['hatch', '道路塌陷风险区']];
  if (signedIn) symbols.unshift(['hazard', '重大危险源'], ['cluster', '生产经营单位（聚合）']);
  const lw = 196;
  const lh = 34 + rows.length * 22 + symbols.length * 22 + 8;
  const lx = 12;
  const ly = head + h - lh - 28;
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
    else {
      ctx.fillStyle = '#fd8d3c';
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(lx + 23, y, 8, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    ctx.fillStyle = '#1d2731';
    ctx.fillText(label, lx + 42, y);
  });

  // Scale bar, bottom right.
  const s = niceScale(metresPerPixel(map), 140);
  const sx = w - 24 - s.px;
  const sy = head + h - 22;
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
  ctx.translate(w - 30, head + 34);
  ctx.rotate((-map.getBearing() * Math.PI) / 180);
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
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, head + h, w, foot);
  ctx.fillStyle = '#4b5866';
  ctx.font = `11px ${FONT}`;
  footLines.forEach((line, i) => ctx.fillText(line, pad, head + h + 14 + i * 15));
  return out;
}

/** Opens the export dialog with a fresh image of the map. */
export function openExport(map, opts) {
  const dialog = byId('export-dialog');
  const canvas = composeExport(map, opts);
  const img = byId('export-img');
  const link = byId('export-download');
  canvas.toBlob((blob) => {
    if (link.dataset.url) URL.revokeObjectURL(link.dataset.url);
    const url = URL.createObjectURL(blob);
    link.dataset.url = url;
    link.href = url;
    const d = new Date();
    const stamp = `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
    link.download = `城市安全风险电子地图_${stamp}.png`;
    img.src = url;
    byId('export-info').textContent = `${canvas.width} × ${canvas.height} 像素 · ${(blob.size / 1024).toFixed(0)} KB`;
  }, 'image/png');
  if (!dialog.open) dialog.showModal();
}

/** Wires the dialog's close button. */
export function initExport() {
  byId('export-close').addEventListener('click', () => byId('export-dialog').close());
}
