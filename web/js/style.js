// The map style (styles/riskmap.json) made absolute for this page, and the
// images it names: the collapse-zone hatch and the hazard-source symbols.
import { getJson, urlOf } from './api.js';

/** Loads the style and points its tile source and glyphs at this server. */
export async function loadStyle() {
  const style = await getJson('styles/riskmap.json');
  for (const source of Object.values(style.sources)) {
    if (typeof source.url === 'string') source.url = urlOf(source.url);
  }
  if (style.glyphs) {
    // Keep the {fontstack}/{range} tokens unescaped.
    style.glyphs = urlOf('fonts/') + style.glyphs.replace(/^.*?fonts\//, '');
  }
  return style;
}

/** Hazard source symbol: a warning triangle, larger and darker for grade 1. */
const HAZARD = {
  1: { size: 30, fill: '#54278f' },
  2: { size: 25, fill: '#756bb1' },
  3: { size: 21, fill: '#9e9ac8' },
  4: { size: 18, fill: '#bcbddc' },
};

/** Draws the hazard symbol of `grade` on `ctx` inside a `size` box at (x, y). */
export function drawHazard(ctx, grade, x = 0, y = 0, size = HAZARD[grade].size) {
  const { fill } = HAZARD[grade];
  const s = size;
  ctx.save();
  ctx.translate(x, y);
  ctx.beginPath();
  ctx.moveTo(s / 2, 1.5);
  ctx.lineTo(s - 1.5, s - 2);
  ctx.lineTo(1.5, s - 2);
  ctx.closePath();
  ctx.fillStyle = fill;
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = Math.max(1.5, s / 12);
  ctx.lineJoin = 'round';
  ctx.fill();
  ctx.stroke();
  ctx.fillStyle = grade <= 2 ? '#ffffff' : '#2a1a4a';
  ctx.font = `bold ${Math.round(s * 0.42)}px sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(String(grade), s / 2, s - s * 0.2);
  ctx.restore();
}

/** Fill of an enterprise cluster by the highest grade among its members. */
const CLUSTER = { major: '#d7191c', high: '#fd8d3c', medium: '#fecc5c', low: '#2c7bb6', none: '#b8c2cc' };

/** Draws an enterprise cluster disc of `color` in a `size` box at (x, y). */
export function drawCluster(ctx, color, size = 26, x = 0, y = 0) {
  ctx.save();
  ctx.translate(x, y);
  ctx.beginPath();
  ctx.arc(size / 2, size / 2, size / 2 - 1.5, 0, 2 * Math.PI);
  ctx.globalAlpha = 0.9;
  ctx.fillStyle = color;
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 2;
  ctx.stroke();
  ctx.restore();
}

/** Draws the collapse-zone hatch tile (`size` square) on `ctx`. */
export function drawHatch(ctx, size = 16, x = 0, y = 0) {
  ctx.save();
  ctx.translate(x, y);
  ctx.fillStyle = 'rgba(191, 129, 45, 0.28)';
  ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = 'rgba(127, 59, 8, 0.85)';
  ctx.lineWidth = size / 8;
  ctx.beginPath();
  for (const o of [-size, 0, size]) {
    ctx.moveTo(o, size);
    ctx.lineTo(o + size, 0);
  }
  ctx.stroke();
  ctx.restore();
}

function image(size, draw) {
  const ratio = 2;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size * ratio;
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);
  draw(ctx);
  return { image: ctx.getImageData(0, 0, size * ratio, size * ratio), pixelRatio: ratio };
}

/** Supplies the style's images when MapLibre asks for them. */
export function provideImages(map) {
  map.on('styleimagemissing', (e) => {
    const id = e.id;
    if (map.hasImage(id)) return;
    if (id === 'hatch') {
      const { image: img, pixelRatio } = image(16, (ctx) => drawHatch(ctx, 16));
      map.addImage(id, img, { pixelRatio });
    } else if (/^cluster-/.test(id)) {
      const color = CLUSTER[id.slice(8)] ?? CLUSTER.none;
      const { image: img, pixelRatio } = image(26, (ctx) => drawCluster(ctx, color, 26));
      map.addImage(id, img, { pixelRatio });
    } else if (/^hazard-[1-4]$/.test(id)) {
      const grade = Number(id.slice(7));
      const size = HAZARD[grade].size;
      const { image: img, pixelRatio } = image(size, (ctx) => drawHazard(ctx, grade, 0, 0, size));
      map.addImage(id, img, { pixelRatio });
    }
  });
}

/** Fills the legend's symbol canvases. */
export function drawLegendSymbols() {
  for (const canvas of document.querySelectorAll('canvas.sym')) {
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (canvas.dataset.symbol === 'hazard') drawHazard(ctx, 1, 4, 4, 32);
    else drawHatch(ctx, 40);
  }
}
