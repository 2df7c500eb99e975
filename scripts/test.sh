#!/usr/bin/env bash
# Installs what the tests need (when missing) and runs every test.
# Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v ogrinfo >/dev/null 2>&1 || need_apt+=(gdal-bin)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
# The `gdal` feature links the system GDAL (prebuilt bindings: no libclang).
pkg-config --exists gdal 2>/dev/null || need_apt+=(libgdal-dev)
# PostgreSQL 15 + PostGIS: tests/postgis.rs (the `postgresql://` source) and
# the GDAL tests read layers from throwaway clusters (run as user postgres).
[ -e /usr/share/postgresql/15/extension/postgis.control ] || need_apt+=(postgresql-15-postgis-3)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
# The web map's browser tests: Node.js, Debian's Chromium and a CJK font.
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
fc-list 2>/dev/null | grep -q "Noto Sans CJK SC" || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# OWSLib: the OGC client the OGC tests drive; openpyxl reads the ledger
# workbook back; pmtiles reads the exported archive back (the tests skip,
# loudly, without them).
python3 -c "import owslib, openpyxl, pmtiles.reader" 2>/dev/null \
  || python3 -m pip install -q OWSLib openpyxl pmtiles \
  || echo "warning: OWSLib/openpyxl/pmtiles could not be installed; their tests will be skipped"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

echo "== cargo test"
cargo test --all-targets
cargo test --doc

# The web map in headless Chromium against the debug binary built above.
echo "== npm ci && node --test tests/web/"
npm ci --no-audit --no-fund
node --test --test-concurrency=1 tests/web/

# The `gdal` feature (Shapefile, GeoPackage, Excel, … through GDAL): lint
# everything, then run the library's tests and those that change with it.
echo "== cargo clippy --features gdal --all-targets -- -D warnings"
cargo clippy --features gdal --all-targets -- -D warnings

echo "== cargo test --features gdal"
cargo test --features gdal --lib --test gdal --test score --test validate
