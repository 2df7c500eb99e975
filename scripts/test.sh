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
# Debian's python3 makes venvs only with python3-venv.
python3 -c 'import ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
# The web map's browser tests: Node.js, Debian's Chromium and a CJK font.
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
fc-list 2>/dev/null | grep -q "Noto Sans CJK SC" || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
# QGIS for tests/qgis.rs (PyQGIS in Debian's python3, drawn offscreen);
# without its recommends (GRASS and the like are not needed).
if ! QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1; then
  echo "== installing qgis python3-qgis"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends qgis python3-qgis
fi

# Python clients in a venv of their own (Debian's python3 refuses `pip
# install`, PEP 668): OWSLib drives the OGC tests, openpyxl reads the ledger
# workbook back, pmtiles reads the exported archive back. A failed install
# fails the run; the tests use this python through RISKMAP_PYTHON.
venv=target/test-venv
echo "== python venv $venv (OWSLib, openpyxl, pmtiles)"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import owslib.ogcapi.features, openpyxl, pmtiles.reader" 2>/dev/null \
  || "$venv/bin/python" -m pip install -q OWSLib openpyxl pmtiles
"$venv/bin/python" -c "import owslib.ogcapi.features, openpyxl, pmtiles.reader"
export RISKMAP_PYTHON="$PWD/$venv/bin/python"

# Skips are recorded here (tests/common/require.rs); under CI=true a
# missing tool fails its test instead. The log is summarised at the end.
export RISKMAP_SKIP_LOG="$PWD/target/skipped-tests.txt"
mkdir -p target
rm -f "$RISKMAP_SKIP_LOG"
test_log=target/test-output.log
: >"$test_log"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

echo "== cargo test"
cargo test --all-targets 2>&1 | tee -a "$test_log"
cargo test --doc 2>&1 | tee -a "$test_log"

# The web map in headless Chromium against the debug binary built above.
echo "== npm ci && node --test tests/web/"
npm ci --no-audit --no-fund
node --test --test-concurrency=1 --test-reporter=tap tests/web/ 2>&1 | tee -a "$test_log"

# The `gdal` feature (Shapefile, GeoPackage, Excel, … through GDAL): lint
# everything, then run the library's tests and those that change with it.
# Without the bundled SQLite (see Cargo.toml): GDAL and the history share
# the system one.
echo "== cargo clippy --no-default-features --features gdal --all-targets -- -D warnings"
cargo clippy --no-default-features --features gdal --all-targets -- -D warnings

echo "== cargo test --no-default-features --features gdal"
cargo test --no-default-features --features gdal --lib --test gdal --test score --test validate --test history 2>&1 | tee -a "$test_log"

# The fuzz targets build on stable (running them needs cargo-fuzz and
# nightly: scripts/fuzz.sh).
echo "== cargo check --manifest-path fuzz/Cargo.toml"
cargo check --manifest-path fuzz/Cargo.toml --all-targets

# How many tests ran per suite, and that none was skipped.
echo "== summary"
echo "build directory: $(du -sh target 2>/dev/null | cut -f1) (target/)"
awk '/^     Running /{suite=($2 == "unittests") ? $3 : $2} /^   Doc-tests /{suite="doc-tests " $3}
     /^test result:/{printf "%-55s %s\n", suite, $0}' "$test_log"
grep -E '^# (tests|pass|fail|skipped|todo) ' "$test_log" | sed 's/^/node --test (tests\/web): /' || true
if grep -qE '^test result: .* [1-9][0-9]* ignored' "$test_log" \
   || grep -qE '^# (skipped|todo) [1-9]' "$test_log" \
   || [ -s "$RISKMAP_SKIP_LOG" ]; then
  echo "SKIPPED TESTS:"
  grep -E '^test result: .* [1-9][0-9]* ignored' "$test_log" || true
  cat "$RISKMAP_SKIP_LOG" 2>/dev/null || true
  if [ -n "${CI:-}" ] && [ "${CI}" != "false" ] && [ "${CI}" != "0" ]; then
    echo "error: tests were skipped or ignored; in CI every test must run" >&2
    exit 1
  fi
else
  echo "no test skipped or ignored"
fi
