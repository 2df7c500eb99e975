// Writes the glyph ranges the map style needs for Latin letters and digits
// (fonts/{fontstack}/{range}.pbf, MapLibre's SDF glyph format) from the
// Latin part of Noto Sans CJK SC, so labels such as 金山第1网格 use one
// design throughout. Chinese characters are not in these files: the page
// draws them in the browser (MapLibre's `localIdeographFontFamily`).
//
// The signed distance fields are drawn by @mapbox/tiny-sdf (MapLibre's own
// dependency) in headless Chromium with the same parameters as node-fontnik
// (24 px, buffer 3, radius 8, cutoff 0.25), then encoded as protobuf here.
// Needs Debian's chromium and fonts-noto-cjk. Usage: node scripts/make-glyphs.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FAMILY = 'Noto Sans CJK SC';
const STACKS = [
  { name: 'Noto Sans CJK SC Regular', weight: '400' },
  { name: 'Noto Sans CJK SC Bold', weight: '700' },
];
// Printable code points of 0-255 (controls have no glyph).
const CODEPOINTS = [];
for (let c = 32; c <= 126; c++) CODEPOINTS.push(c);
for (let c = 160; c <= 255; c++) CODEPOINTS.push(c);

// --- protobuf writer (just what the glyphs message needs) ---
function varint(n) {
  const out = [];
  let v = BigInt(n);
  while (v > 0x7fn) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
const key = (field, wire) => varint((field << 3) | wire);
const uint = (field, n) => Buffer.concat([key(field, 0), varint(n)]);
const sint = (field, n) => uint(field, n >= 0 ? 2 * n : -2 * n - 1);
const bytes = (field, b) => Buffer.concat([key(field, 2), varint(b.length), Buffer.from(b)]);
const text = (field, s) => bytes(field, Buffer.from(s, 'utf8'));

function glyphMessage(g) {
  const parts = [uint(1, g.id)];
  if (g.bitmap.length > 0) parts.push(bytes(2, g.bitmap));
  parts.push(uint(3, g.width), uint(4, g.height), sint(5, g.left), sint(6, g.top), uint(7, g.advance));
  return Buffer.concat(parts);
}

function rangePbf(stack, start, glyphs) {
  const fontstack = Buffer.concat([
    text(1, stack),
    text(2, `${start}-${start + 255}`),
    ...glyphs.map((g) => bytes(3, glyphMessage(g))),
  ]);
  return bytes(1, fontstack);
}

// --- drawing in the browser ---
const tinySdf = readFileSync(join(root, 'node_modules/@mapbox/tiny-sdf/index.js'), 'utf8')
  .replace('export default class TinySDF', 'window.TinySDF = class TinySDF');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><meta charset="utf-8"><body></body>');
  await page.addScriptTag({ content: tinySdf });
  for (const { name, weight } of STACKS) {
    const drawn = await page.evaluate(
      ({ family, weight, codepoints }) => {
        const probe = document.createElement('canvas').getContext('2d');
        probe.font = `${weight} 24px '${family}', monospace`;
        const withFont = probe.measureText('abcdefghij0123456789').width;
        probe.font = `${weight} 24px monospace`;
        if (withFont === probe.measureText('abcdefghij0123456789').width) {
          throw new Error(`font ${family} is not installed`);
        }
        const sdf = new window.TinySDF({
          fontSize: 24, buffer: 3, radius: 8, cutoff: 0.25,
          fontFamily: `'${family}'`, fontWeight: weight,
        });
        return codepoints.map((id) => {
          const g = sdf.draw(String.fromCodePoint(id));
          const empty = g.glyphWidth === 0 || g.glyphHeight === 0;
          return {
            id,
            width: empty ? 0 : g.glyphWidth,
            height: empty ? 0 : g.glyphHeight,
            glyphLeft: g.glyphLeft,
            glyphTop: g.glyphTop,
            advance: g.glyphAdvance,
            bitmap: empty ? [] : Array.from(g.data),
          };
        });
      },
      { family: FAMILY, weight, codepoints: CODEPOINTS },
    );
    const glyphs = drawn.map((g) => ({
      id: g.id,
      bitmap: Uint8Array.from(g.bitmap),
      width: g.width,
      height: g.height,
      // MapLibre places server glyphs relative to a line box 24 px high;
      // the same offsets it applies to glyphs it draws itself.
      left: g.glyphLeft,
      top: Math.round(g.glyphTop - 27.5),
      advance: Math.round(g.advance),
    }));
    const dir = join(root, 'fonts', name);
    mkdirSync(dir, { recursive: true });
    const pbf = rangePbf(name, 0, glyphs);
    writeFileSync(join(dir, '0-255.pbf'), pbf);
    console.log(`fonts/${name}/0-255.pbf: ${glyphs.length} glyphs, ${pbf.length} bytes`);
  }
} finally {
  await browser.close();
}
