// PNG metadata written in the browser: iTXt text chunks (UTF-8, so a
// Chinese title survives) and the pHYs resolution, inserted after IHDR.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes` (PNG's). */
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data, CRC of type and data. */
function chunk(type, data) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An iTXt chunk: keyword (Latin-1), uncompressed UTF-8 text. */
function itxt(keyword, text) {
  const enc = new TextEncoder();
  const key = enc.encode(keyword);
  const body = enc.encode(text);
  const data = new Uint8Array(key.length + 5 + body.length);
  data.set(key, 0);
  // NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL.
  data.set([0, 0, 0, 0, 0], key.length);
  data.set(body, key.length + 5);
  return chunk('iTXt', data);
}

/** A pHYs chunk of `dpi` dots per inch. */
function phys(dpi) {
  const data = new Uint8Array(9);
  const view = new DataView(data.buffer);
  const perMetre = Math.round(dpi / 0.0254);
  view.setUint32(0, perMetre);
  view.setUint32(4, perMetre);
  data[8] = 1; // unit: metre
  return chunk('pHYs', data);
}

/**
 * The PNG `blob` with `texts` ({keyword: text}, empty ones left out) as
 * iTXt chunks and, with `dpi`, its resolution; resolves to a new Blob.
 */
export async function pngWithText(blob, texts, dpi) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const view = new DataView(bytes.buffer);
  const parts = [bytes.subarray(0, 8)];
  const added = Object.entries(texts).filter(([, v]) => v).map(([k, v]) => itxt(k, v));
  if (dpi) added.push(phys(dpi));
  for (let at = 8; at < bytes.length;) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = at + 12 + len;
    if (!(dpi && type === 'pHYs')) parts.push(bytes.subarray(at, end));
    if (type === 'IHDR') parts.push(...added);
    at = end;
  }
  return new Blob(parts, { type: 'image/png' });
}
