#!/usr/bin/env bash
# The benchmark harness: riskmap against the servers a GIS team would deploy
# instead, on the same data, machine and workload, in one run, on loopback.
#
# Usage: scripts/bench.sh [PRESET]          (PRESET: province (default) or quanzhou)
# Environment (all optional):
#   DURATION=20       seconds per wrk run        CONNECTIONS=50   open connections
#   THREADS=2         wrk threads                N=20000          requests per list
#   BENCH_DIR=/tmp/riskmap-bench                 work folder (PostgreSQL cluster, lists, logs)
#   MARTIN=martin     Martin 1.14 binary (see ../shared/design/PEERS.md); PEERS=0 skips
#                     Martin, PostGIS and nginx
#
# Prints one Markdown table (also written to $BENCH_DIR/results-PRESET.md).
# Everything it starts it stops.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PRESET=${1:-province}
DURATION=${DURATION:-20}
CONN=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
N=${N:-20000}
WORK=${BENCH_DIR:-/tmp/riskmap-bench}
MARTIN=${MARTIN:-martin}
PEERS=${PEERS:-1}
PLANNER=demo-planner-7f3a91c2
DATA=$ROOT/data/$PRESET
PGBIN=/usr/lib/postgresql/15/bin
BIN=$ROOT/target/release/riskmap
LAYERS=counties,towns,villages,cells,collapse_zones,hazard_sources,enterprises
mkdir -p "$WORK"
RESULTS=$WORK/results-$PRESET.md
LOADS=$WORK/loads-$PRESET.md

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -f "$WORK/pg/postmaster.pid" ]; then
    su postgres -c "$PGBIN/pg_ctl -D $WORK/pg stop -m fast" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

say() { echo "== $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 1 3000); do
    curl -fso /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}
now() { date +%s.%N; }
kb_of() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

# wrk over a request list: prints "req/s p50_ms p99_ms non2xx errors".
load() { # URL_BASE LIST PREFIX SUFFIX TOKEN
  local out
  out=$(PATHS=$2 PREFIX=$3 SUFFIX=$4 TOKEN=$5 wrk -t"$THREADS" -c"$CONN" -d"${DURATION}s" \
    --timeout 30s -s "$ROOT/scripts/bench/replay.lua" "$1" 2>&1 | grep '^BENCH' | tail -n 1)
  python3 - "$out" <<'EOF'
import sys
f = dict(kv.split("=") for kv in sys.argv[1].split()[1:])
secs = int(f["duration_us"]) / 1e6
print(f'{int(f["requests"]) / secs:.0f} {int(f["p50_us"]) / 1000:.1f} {int(f["p99_us"]) / 1000:.1f} '
      f'{f["errors_status"]} {f["errors_other"]}')
EOF
}

row() { echo "| $1 | $2 |" >>"$RESULTS"; }
load_row() { # LABEL "req/s p50 p99 non2xx err" [NOTE]
  read -r rps p50 p99 bad err <<<"$2"
  echo "| $1 | $rps | $p50 | $p99 | $bad | $err | ${3:-} |" >>"$LOADS"
  echo "$rps"
}
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}x' if b else 'n/a')" "$1" "$2"; }

# --- build and data -------------------------------------------------------
for tool in wrk curl python3; do
  command -v $tool >/dev/null || { echo "needs $tool (apt-get install -y wrk curl python3)" >&2; exit 1; }
done
say "building release"
cargo build --release --quiet --bin riskmap --example bench_workload
if [ ! -d "$DATA" ]; then
  say "generating the $PRESET preset into $DATA"
  "$BIN" generate --preset "$PRESET" --seed 42 --out "$DATA.partial"
  mv "$DATA.partial" "$DATA"
fi
if [ ! -f "$WORK/$PRESET/tiles.txt" ]; then
  say "writing request lists ($N each)"
  "$ROOT/target/release/examples/bench_workload" "$DATA" "$WORK/$PRESET" "$N" 42
fi
LISTS=$WORK/$PRESET

start_riskmap() { # CACHE_MB → sets RM_PID RM_PORT RM_READY_S
  local cfg=$WORK/riskmap-$1.toml
  printf 'tokens = "%s"\njson_logs = true\n[tiles]\ncache_mb = %s\n[limits]\nmax_concurrent_requests = 4096\n' \
    "$ROOT/data/demo-tokens.toml" "$1" >"$cfg"
  RM_PORT=$(free_port)
  local t0
  t0=$(now)
  RUST_LOG=info "$BIN" --config "$cfg" serve --data "$DATA" --addr "127.0.0.1:$RM_PORT" \
    >"$WORK/riskmap-$1.log" 2>&1 &
  RM_PID=$!
  PIDS+=("$RM_PID")
  wait_http "http://127.0.0.1:$RM_PORT/health"
  RM_READY_S=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$(now)")
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

{
  echo "### riskmap bench: preset $PRESET, $(date -u +%Y-%m-%d), $(nproc) cores, wrk -t$THREADS -c$CONN -d${DURATION}s"
  echo
  echo "| measure | value |"
  echo "|---|---|"
} >"$RESULTS"

# --- riskmap: load, memory, uncached tiles ---------------------------------
say "riskmap: load (tile cache off)"
start_riskmap 0
row "serve start → first /health answered" "$RM_READY_S s"
read -r read_ms index_ms score_ms < <(python3 - "$WORK/riskmap-0.log" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        f = json.loads(line).get("fields", {})
    except ValueError:
        continue
    if f.get("message") == "snapshot built":
        print(f["read_ms"], f["index_ms"], f["score_ms"])
        break
else:
    print("? ? ?")
EOF
)
row "read + validate / index / score" "$read_ms / $index_ms / $score_ms ms"
row "full rescore" "$score_ms ms"
row "peak RSS after load" "$(($(kb_of "$RM_PID" VmHWM) / 1024)) MiB"
RM_BASE=http://127.0.0.1:$RM_PORT
read -r count empty mean p95 max <<<"$(python3 scripts/bench/tiles.py sizes "$RM_BASE/tiles/{z}/{x}/{y}.mvt" "$LISTS/tiles.txt" 500 "$PLANNER")"
row "riskmap tile sizes (500 tiles, planner)" "mean $mean B, p95 $p95 B, max $max B, $empty empty"
{
  echo
  echo "| load (wrk) | req/s | p50 ms | p99 ms | non-2xx | socket errors | note |"
  echo "|---|---|---|---|---|---|---|"
} >"$LOADS"
say "riskmap: uncached tiles"
rm_uncached=$(load_row "riskmap tiles, uncached (7 layers, planner token)" \
  "$(load "$RM_BASE" "$LISTS/tiles.txt" /tiles/ .mvt "$PLANNER")" "generalised, clustered")
say "riskmap: /api/cells/at"
load_row "riskmap /api/cells/at" "$(load "$RM_BASE" "$LISTS/at.txt" "" "" "$PLANNER")" >/dev/null
say "riskmap: OGC items"
load_row "riskmap /ogc cells items, limit=1000" "$(load "$RM_BASE" "$LISTS/ogc.txt" "" "" "")" >/dev/null
steady=$(($(kb_of "$RM_PID" VmRSS) / 1024))
stop "$RM_PID"
row "RSS after the load runs" "$steady MiB"

# --- riskmap: cached tiles ---------------------------------------------------
say "riskmap: cached tiles"
start_riskmap 1024
RM_BASE=http://127.0.0.1:$RM_PORT
python3 scripts/bench/tiles.py dump "$RM_BASE/tiles/{z}/{x}/{y}.mvt" "$LISTS/tiles.txt" "$WORK/static/$PRESET/tiles" "$PLANNER"
rm_cached=$(load_row "riskmap tiles, cached" "$(load "$RM_BASE" "$LISTS/tiles.txt" /tiles/ .mvt "$PLANNER")")
stop "$RM_PID"

if [ "$PEERS" = 1 ]; then
  # --- nginx: the same bytes from files --------------------------------------
  if command -v nginx >/dev/null; then
    say "nginx: the same tiles as files"
    NG_PORT=$(free_port)
    mkdir -p "$WORK/nginx"
    cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  server {
    listen 127.0.0.1:$NG_PORT;
    root $WORK/static/$PRESET;
    location /tiles/ { default_type application/vnd.mapbox-vector-tile; try_files \$uri =204; }
  }
}
EOF
    nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
    PIDS+=($!)
    NG_PID=$!
    sleep 0.5
    ng=$(load_row "nginx, same tile bytes from files" "$(load "http://127.0.0.1:$NG_PORT" "$LISTS/tiles.txt" /tiles/ .mvt "")")
    stop "$NG_PID"
  else
    echo "nginx not installed (apt-get install -y nginx-light): skipped" >&2
  fi

  # --- Martin + PostGIS --------------------------------------------------------
  if command -v "$MARTIN" >/dev/null && [ -x "$PGBIN/postgres" ] && command -v ogr2ogr >/dev/null; then
    PG_PORT=$(free_port)
    if [ ! -f "$WORK/pg/PG_VERSION" ]; then
      mkdir -p "$WORK/pg" && chown postgres "$WORK/pg"
      su postgres -c "$PGBIN/initdb -D $WORK/pg -A trust -U postgres" >/dev/null
    fi
    chown -R postgres "$WORK/pg"
    su postgres -c "$PGBIN/pg_ctl -D $WORK/pg -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c shared_buffers=512MB' -l $WORK/pg/server.log -w start" >/dev/null
    PG="host=127.0.0.1 port=$PG_PORT user=postgres"
    DB=riskmap_$PRESET
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='$DB'" | grep -q 1; then
      say "PostGIS: loading $PRESET with ogr2ogr (scored grid from riskmap score)"
      psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "create database $DB"
      psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$DB" -c "create extension postgis"
      "$BIN" score --data "$DATA" --out "$WORK/$PRESET-scored.fgb"
      for level in county:counties town:towns village:villages cell:cells; do
        ogr2ogr -f PostgreSQL "PG:$PG dbname=$DB" "$WORK/$PRESET-scored.fgb" -where "level='${level%%:*}'" \
          -nln "${level#*:}" -t_srs EPSG:3857 -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST -nlt PROMOTE_TO_MULTI
      done
      for layer in collapse_zones hazard_sources enterprises; do
        ogr2ogr -f PostgreSQL "PG:$PG dbname=$DB" "$DATA/$layer.fgb" -nln "$layer" -t_srs EPSG:3857 \
          -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST
      done
      psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$DB" -c "analyze"
    fi
    # The same zoom ranges as riskmap's tile policy (src/tiles/policy.rs).
    MT_PORT=$(free_port)
    python3 - "$PG_PORT" "$DB" "$MT_PORT" >"$WORK/martin-$PRESET.yaml" <<'EOF'
import json, subprocess, sys
port, db, listen = sys.argv[1:]
minzoom = {"counties": 0, "towns": 7, "villages": 9, "cells": 12, "collapse_zones": 10,
           "hazard_sources": 0, "enterprises": 0}
tables = {}
for t, mz in minzoom.items():
    geom_type = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db, "-tAc",
         f"select type from geometry_columns where f_table_name = '{t}'"],
        check=True, capture_output=True, text=True).stdout.strip()
    cols = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db, "-tAc",
         f"select column_name || ' ' || udt_name from information_schema.columns where table_name = '{t}' "
         "and column_name not in ('geom', 'ogc_fid')"],
        check=True, capture_output=True, text=True).stdout.split("\n")
    props = dict(c.split(" ", 1) for c in cols if c.strip())
    tables[t] = {"schema": "public", "table": t, "srid": 3857, "geometry_column": "geom",
                 "geometry_type": geom_type, "id_column": "ogc_fid", "minzoom": mz, "maxzoom": 22,
                 "bounds": [-180, -85, 180, 85], "properties": props}
print(json.dumps({
    "listen_addresses": f"127.0.0.1:{listen}",
    "worker_processes": 2,
    "cache_size_mb": 0,
    "postgres": {"connection_string": f"postgresql://postgres@127.0.0.1:{port}/{db}",
                 "pool_size": 20, "auto_publish": False, "tables": tables},
}, indent=1))
EOF
    say "Martin + PostGIS: uncached tiles"
    "$MARTIN" --config "$WORK/martin-$PRESET.yaml" >"$WORK/martin.log" 2>&1 &
    MT_PID=$!
    PIDS+=("$MT_PID")
    wait_http "http://127.0.0.1:$MT_PORT/catalog"
    MT_BASE=http://127.0.0.1:$MT_PORT
    read -r count empty mean p95 max <<<"$(python3 scripts/bench/tiles.py sizes "$MT_BASE/$LAYERS/{z}/{x}/{y}" "$LISTS/tiles.txt" 500)"
    row "Martin + PostGIS tile sizes (same 500 tiles)" "mean $mean B, p95 $p95 B, max $max B, $empty empty"
    mt=$(load_row "Martin 1.14 + PostGIS tiles, uncached (same 7 layers)" \
      "$(load "$MT_BASE" "$LISTS/tiles.txt" "/$LAYERS/" "" "")" "raw features: no clustering or simplification")
    stop "$MT_PID"
    su postgres -c "$PGBIN/pg_ctl -D $WORK/pg stop -m fast" >/dev/null
  else
    echo "Martin ($MARTIN), PostgreSQL 15 + PostGIS or ogr2ogr missing: Martin skipped (see ../shared/design/PEERS.md)" >&2
  fi
fi

cat "$LOADS" >>"$RESULTS"
rm -f "$LOADS"
{
  echo
  echo "| ratio | value |"
  echo "|---|---|"
  [ -n "${mt:-}" ] && echo "| riskmap uncached ÷ Martin+PostGIS uncached (req/s) | $(ratio "$rm_uncached" "$mt") |"
  [ -n "${ng:-}" ] && echo "| riskmap cached ÷ nginx static (req/s) | $(ratio "$rm_cached" "$ng") |"
  true
} >>"$RESULTS"
cat "$RESULTS"
