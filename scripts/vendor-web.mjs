// Copies MapLibre GL JS (classic build, CSS and licence) from node_modules
// into web/vendor/, where the server embeds it. Run after changing the
// maplibre-gl version in package.json: `npm ci && npm run vendor`.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'node_modules', 'maplibre-gl');
const out = join(root, 'web', 'vendor');
mkdirSync(out, { recursive: true });
for (const [from, to] of [
  ['dist/maplibre-gl.js', 'maplibre-gl.js'],
  ['dist/maplibre-gl.css', 'maplibre-gl.css'],
  ['LICENSE.txt', 'LICENSE.txt'],
]) {
  copyFileSync(join(pkg, from), join(out, to));
}
const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
console.log(`vendored maplibre-gl ${version} into web/vendor/`);
