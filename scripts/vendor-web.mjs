// Copies the browser libraries the page uses from node_modules into
// web/vendor/, where the server embeds them (and `riskmap export-pmtiles
// --with-page` writes them beside an archive): MapLibre GL JS (classic
// build, CSS and licence) and the `pmtiles` reader (its IIFE build, which
// defines the global `pmtiles`, with the fflate decompressor bundled in).
// Run after changing either version in package.json: `npm ci && npm run vendor`.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');
const out = join(root, 'web', 'vendor');
mkdirSync(out, { recursive: true });

const version = (name) => JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version;

for (const [from, to] of [
  ['dist/maplibre-gl.js', 'maplibre-gl.js'],
  ['dist/maplibre-gl.css', 'maplibre-gl.css'],
  ['LICENSE.txt', 'LICENSE.txt'],
]) {
  copyFileSync(join(modules, 'maplibre-gl', from), join(out, to));
}
console.log(`vendored maplibre-gl ${version('maplibre-gl')} into web/vendor/`);

copyFileSync(join(modules, 'pmtiles', 'dist', 'pmtiles.js'), join(out, 'pmtiles.js'));
writeFileSync(join(out, 'pmtiles-LICENSE.txt'), pmtilesLicence());
console.log(`vendored pmtiles ${version('pmtiles')} (with fflate ${version('fflate')}) into web/vendor/`);

/**
 * The licences of web/vendor/pmtiles.js: the `pmtiles` package declares
 * BSD-3-Clause but ships no licence file, so its text (from the PMTiles
 * repository's LICENSE) is written here; fflate's comes from its package.
 */
function pmtilesLicence() {
  const fflate = readFileSync(join(modules, 'fflate', 'LICENSE'), 'utf8').trim();
  return `web/vendor/pmtiles.js is the IIFE build of the npm package pmtiles ${version('pmtiles')}
(BSD-3-Clause), which bundles fflate ${version('fflate')} (MIT).

== pmtiles ==

Copyright 2021 Protomaps LLC

Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice, this list of conditions and the following disclaimer in the documentation and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its contributors may be used to endorse or promote products derived from this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

== fflate ==

${fflate}
`;
}
