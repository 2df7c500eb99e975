#!/usr/bin/env bash
# The benchmark harness: riskmap against the servers a GIS team would deploy
# instead, on the same data, machine and workload, in one run, on loopback.
#
# Usage: scripts/bench.sh [PRESET]          (PRESET: province (default) or quanzhou)
# Environment (all optional):
#   DURATION=20       seconds per wrk run        CONNECTIONS=50   open connections
#   THREADS=2         wrk threads                N=20000          requests per list
#   SAMPLE=500        tiles fetched once each for the size statistics
#   BENCH_DIR=/tmp/riskmap-bench                 work folder (PostgreSQL cluster, venv, lists, logs)
#   RISKMAP_BIN=...   a riskmap binary to measure instead of building target/release/riskmap
#   MARTIN=martin     Martin 1.14 binary (see docs/benchmark-peers.md)
#   PEERS=all         comma-separated peers to run: nginx (the cached tiles as static files),
#                     martin-fn (Martin + a PostGIS function source drawing riskmap's generalised
#                     map: scripts/peer/), martin (Martin + PostGIS raw tables), martin-geojson
#                     (Martin serving the same layers as GeoJSON from memory), pygeoapi (OGC API -
#                     Features items from PostGIS, under gunicorn); "all" (or 1) runs every peer,
#                     "none" (or 0) only riskmap. A peer whose software is missing is skipped with
#                     a message; PostgreSQL starts only when a PostGIS peer runs, and loads only
#                     the tables they need (cached in BENCH_DIR between runs, like the GeoJSON
#                     files; the function source's tables are prepared again when its SQL changes).
#   PYGEOAPI_WSGI="--workers 2 --threads 4 --worker-class gthread"   gunicorn options for pygeoapi
#                     (threads overlap Python work with PostgreSQL waits: faster than sync workers here)
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
SAMPLE=${SAMPLE:-500}
WORK=${BENCH_DIR:-/tmp/riskmap-bench}
MARTIN=${MARTIN:-martin}
PEERS=${PEERS:-all}
case $PEERS in
  1 | all) PEERS=nginx,martin-fn,martin,martin-geojson,pygeoapi ;;
  0 | none) PEERS= ;;
esac
PLANNER=demo-planner-7f3a91c2
DATA=$ROOT/data/$PRESET
PGBIN=/usr/lib/postgresql/15/bin
BIN=${RISKMAP_BIN:-$ROOT/target/release/riskmap}
LAYERS=counties,towns,villages,cells,collapse_zones,hazard_sources,enterprises
# The minimum zoom of each layer in riskmap's tile policy (src/tiles/policy.rs).
MINZOOMS="counties=0 towns=7 villages=9 cells=12 collapse_zones=10 hazard_sources=0 enterprises=0"
GRID_LEVELS="county:counties town:towns village:villages cell:cells"
OTHER_LAYERS="collapse_zones hazard_sources enterprises"
PYGEOAPI_VERSION=0.21.0
PYGEOAPI_WSGI=${PYGEOAPI_WSGI:---workers 2 --threads 4 --worker-class gthread}
DB=riskmap_$PRESET
PG_PORT=
mkdir -p "$WORK"
RESULTS=$WORK/results-$PRESET.md
LOADS=$WORK/loads-$PRESET.md

PIDS=()
pg_stop() {
  if [ -n "$PG_PORT" ]; then
    su postgres -c "$PGBIN/pg_ctl -D $WORK/pg stop -m fast" >/dev/null 2>&1 || true
    PG_PORT=
  fi
}
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  pg_stop
}
trap cleanup EXIT

say() { echo "== $*" >&2; }
want() { [[ ",$PEERS," == *",$1,"* ]]; }
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
# The request list with, before each z/x/y, the layers riskmap draws at z.
zoom_paths() { # TILES_FILE
  awk -v minzooms="$MINZOOMS" 'BEGIN { n = split(minzooms, kv, " ")
      for (i = 1; i <= n; i++) { split(kv[i], p, "="); name[i] = p[1]; min[i] = p[2] } }
    { split($0, t, "/"); s = ""
      for (i = 1; i <= n; i++) if (t[1] + 0 >= min[i]) s = s (s == "" ? "" : ",") name[i]
      print "/" s "/" $0 }' "$1"
}

# --- PostgreSQL + PostGIS, shared by the martin and pygeoapi peers -------------
pg_available() { [ -x "$PGBIN/postgres" ] && command -v psql >/dev/null && command -v ogr2ogr >/dev/null; }
pg() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
pg_has() { [ "$(pg -d "$DB" -tAc "select to_regclass('$1') is not null")" = t ]; }
pg_start() { # starts the cluster once per run (creating it and the database the first time)
  [ -n "$PG_PORT" ] && return 0
  PG_PORT=$(free_port)
  if [ ! -f "$WORK/pg/PG_VERSION" ]; then
    mkdir -p "$WORK/pg" && chown postgres "$WORK/pg"
    su postgres -c "$PGBIN/initdb -D $WORK/pg -A trust -U postgres" >/dev/null
  fi
  chown -R postgres "$WORK/pg"
  if [ -f "$WORK/pg/postmaster.pid" ]; then # left running by an interrupted run
    su postgres -c "$PGBIN/pg_ctl -D $WORK/pg stop -m fast" >/dev/null 2>&1 || true
  fi
  su postgres -c "$PGBIN/pg_ctl -D $WORK/pg -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c shared_buffers=512MB' -l $WORK/pg/server.log -w start" >/dev/null
  PG="host=127.0.0.1 port=$PG_PORT user=postgres dbname=$DB"
  if ! pg -tAc "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
    pg -c "create database $DB"
    pg -d "$DB" -c "create extension postgis"
  fi
}
scored_fgb() { # → SCORED: the grid units with riskmap's risk scores, computed once per preset
  SCORED=$WORK/$PRESET-scored.fgb
  if [ ! -f "$SCORED" ]; then
    "$BIN" score --data "$DATA" --out "$SCORED.partial.fgb" >&2
    mv "$SCORED.partial.fgb" "$SCORED"
  fi
}
pg_load_tiles() { # the seven layers in EPSG:3857 (Martin's fastest path), public schema
  pg_has public.enterprises && return 0
  say "PostGIS: loading $PRESET with ogr2ogr (scored grid from riskmap score)"
  scored_fgb
  for level in $GRID_LEVELS; do
    ogr2ogr -overwrite -f PostgreSQL "PG:$PG" "$SCORED" -where "level='${level%%:*}'" \
      -nln "${level#*:}" -t_srs EPSG:3857 -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST -nlt PROMOTE_TO_MULTI
  done
  for layer in $OTHER_LAYERS; do
    ogr2ogr -overwrite -f PostgreSQL "PG:$PG" "$DATA/$layer.fgb" -nln "$layer" -t_srs EPSG:3857 \
      -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST
  done
  pg -d "$DB" -c "analyze"
}
pg_load_peer() { # schema peer: riskmap's generalised map for Martin's function source (scripts/peer/)
  local sql=$ROOT/scripts/peer/martin-function.sql sum t0
  sum=$(sha256sum "$sql" | cut -c1-16)
  PEER_PREP="prepared in an earlier run"
  [ "$(pg -d "$DB" -tAc "select obj_description(oid, 'pg_namespace') from pg_namespace where nspname = 'peer'")" = "$sum" ] && return 0
  say "PostGIS: preparing riskmap's generalised map for the function source ($sql)"
  t0=$(now)
  PGOPTIONS="-c client_min_messages=warning" pg -d "$DB" -f "$sql"
  pg -d "$DB" -c "comment on schema peer is '$sum'"
  PEER_PREP="$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(now)") s"
}
pg_load_ogc() { # ogc.cells: the scored cells in WGS 84 with the properties riskmap's /ogc gives, keyed by code
  pg_has ogc.cells && return 0
  say "PostGIS: loading the scored cells for pygeoapi"
  scored_fgb
  pg -d "$DB" -c "create schema if not exists ogc"
  ogr2ogr -overwrite -f PostgreSQL "PG:$PG" "$SCORED" -where "level='cell'" -nln ogc.cells -t_srs EPSG:4326 \
    -select code,name,level,parent_code,population,risk_score,risk_level,risk_color \
    -lco GEOMETRY_NAME=geom -lco SPATIAL_INDEX=GIST -nlt PROMOTE_TO_MULTI
  pg -d "$DB" -c "alter table ogc.cells add column id text" -c "update ogc.cells set id = code" \
    -c "alter table ogc.cells drop column ogc_fid, add primary key (id)" -c "vacuum analyze ogc.cells"
}

ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}x' if b else 'n/a')" "$1" "$2"; }

# --- build and data -------------------------------------------------------
for tool in wrk curl python3; do
  command -v $tool >/dev/null || { echo "needs $tool (apt-get install -y wrk curl python3)" >&2; exit 1; }
done
if [ -z "${RISKMAP_BIN:-}" ]; then
  say "building release"
  cargo build --release --quiet --bin riskmap --example bench_workload
fi
if [ ! -d "$DATA" ]; then
  say "generating the $PRESET preset into $DATA"
  "$BIN" generate --preset "$PRESET" --seed 42 --out "$DATA.partial"
  mv "$DATA.partial" "$DATA"
fi
if [ ! -f "$WORK/$PRESET/tiles.txt" ]; then
  say "writing request lists ($N each)"
  [ -x "$ROOT/target/release/examples/bench_workload" ] || cargo build --release --quiet --example bench_workload
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
  # The history opens in the background once the server listens: let it
  # finish before anything is measured.
  while curl -fs "http://127.0.0.1:$RM_PORT/health" | grep -q history_opening; do sleep 0.2; done
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
read -r read_ms index_ms score_ms tiles_ms < <(python3 - "$WORK/riskmap-0.log" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    try:
        f = json.loads(line).get("fields", {})
    except ValueError:
        continue
    if f.get("message") == "snapshot built":
        print(f["read_ms"], f["index_ms"], f["score_ms"], f.get("tiles_ms", "?"))
        break
else:
    print("? ? ? ?")
EOF
)
row "read + validate / index / score / tile preparation" "$read_ms / $index_ms / $score_ms / $tiles_ms ms"
row "full rescore" "$score_ms ms"
row "peak RSS after load" "$(($(kb_of "$RM_PID" VmHWM) / 1024)) MiB"
RM_BASE=http://127.0.0.1:$RM_PORT
read -r _ empty mean p95 max <<<"$(python3 scripts/bench/tiles.py sizes "$RM_BASE/tiles/{z}/{x}/{y}.mvt" "$LISTS/tiles.txt" "$SAMPLE" "$PLANNER")"
row "riskmap tile sizes ($SAMPLE tiles, planner)" "mean $mean B, p95 $p95 B, max $max B, $empty empty"
{
  echo
  echo "| load (wrk) | req/s | p50 ms | p99 ms | non-2xx | socket errors | note |"
  echo "|---|---|---|---|---|---|---|"
} >"$LOADS"
say "riskmap: uncached tiles"
rm_uncached=$(load_row "riskmap tiles, uncached (planner token: the 7 layers + hidden dangers, sensors, alarms)" \
  "$(load "$RM_BASE" "$LISTS/tiles.txt" /tiles/ .mvt "$PLANNER")" "generalised, clustered")
say "riskmap: /api/cells/at"
load_row "riskmap /api/cells/at" "$(load "$RM_BASE" "$LISTS/at.txt" "" "" "$PLANNER")" >/dev/null
say "riskmap: OGC items"
read -r pages mean feats props <<<"$(python3 scripts/bench/ogc.py pages "$RM_BASE" "$LISTS/ogc.txt" 5)"
row "riskmap /ogc items page (first $pages pages of the list)" "mean $mean B, $feats features, properties $props"
rm_ogc_page=$feats/$props
rm_ogc=$(load_row "riskmap /ogc cells items, limit=1000" "$(load "$RM_BASE" "$LISTS/ogc.txt" "" "" "")")
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

# --- nginx: the same bytes from files ------------------------------------------
if want nginx; then
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
    NG_PID=$!
    PIDS+=("$NG_PID")
    sleep 0.5
    ng=$(load_row "nginx, same tile bytes from files" "$(load "http://127.0.0.1:$NG_PORT" "$LISTS/tiles.txt" /tiles/ .mvt "")")
    stop "$NG_PID"
  else
    echo "nginx not installed (apt-get install -y nginx-light): skipped" >&2
  fi
fi

# --- Martin + PostGIS function source: riskmap's generalised map -------------------
if want martin-fn; then
  if command -v "$MARTIN" >/dev/null && pg_available; then
    pg_start
    pg_load_tiles
    pg_load_peer
    row "Martin function source: tables prepared (scripts/peer/martin-function.sql)" "$PEER_PREP"
    MF_PORT=$(free_port)
    python3 - "$PG_PORT" "$DB" "$MF_PORT" >"$WORK/martin-fn-$PRESET.yaml" <<'EOF'
import json, sys
port, db, listen = sys.argv[1:]
print(json.dumps({
    "listen_addresses": f"127.0.0.1:{listen}",
    "worker_processes": 2,
    "cache_size_mb": 0,
    "postgres": {"connection_string": f"postgresql://postgres@127.0.0.1:{port}/{db}",
                 "pool_size": 20, "auto_publish": False,
                 "functions": {"riskmap": {"schema": "peer", "function": "tile", "minzoom": 0,
                                           "maxzoom": 22, "bounds": [-180, -85, 180, 85]}}},
}, indent=1))
EOF
    say "Martin + PostGIS function source: uncached tiles"
    "$MARTIN" --config "$WORK/martin-fn-$PRESET.yaml" >"$WORK/martin-fn.log" 2>&1 &
    MF_PID=$!
    PIDS+=("$MF_PID")
    wait_http "http://127.0.0.1:$MF_PORT/catalog"
    MF_BASE=http://127.0.0.1:$MF_PORT
    read -r _ empty mean p95 max <<<"$(python3 scripts/bench/tiles.py sizes "$MF_BASE/riskmap/{z}/{x}/{y}" "$LISTS/tiles.txt" "$SAMPLE")"
    row "Martin function source tile sizes (same $SAMPLE tiles)" "mean $mean B, p95 $p95 B, max $max B, $empty empty"
    # Side by side with riskmap's tiles of the same list (the bytes dumped for nginx).
    read -r n ba bb fa fb ca cb ea eb other <<<"$(python3 scripts/peer/compare.py \
      "$WORK/static/$PRESET/tiles/{z}/{x}/{y}.mvt" "$MF_BASE/riskmap/{z}/{x}/{y}" \
      --list "$LISTS/tiles.txt" --sample "$SAMPLE" --brief)"
    row "riskmap · Martin function source, same $n tiles, the 7 layers both draw" \
      "layer bytes $ba · $bb ($(ratio "$bb" "$ba") riskmap's); features $fa · $fb; enterprise clusters $ca · $cb; enterprises drawn $ea · $eb"
    row "riskmap's layers not in the peer (hidden dangers, sensors, alarms)" "$other B over the $n tiles"
    mf=$(load_row "Martin 1.14 + PostGIS function source, uncached (riskmap's map, 7 layers)" \
      "$(load "$MF_BASE" "$LISTS/tiles.txt" /riskmap/ "" "")" "generalised, clustered: scripts/peer/")
    stop "$MF_PID"
  else
    echo "Martin ($MARTIN), PostgreSQL 15 + PostGIS or ogr2ogr missing: Martin function source skipped (see docs/benchmark-peers.md)" >&2
  fi
fi

# --- Martin serving the same layers as GeoJSON from memory ---------------------
if want martin-geojson; then
  if command -v "$MARTIN" >/dev/null && command -v ogr2ogr >/dev/null; then
    GJ=$WORK/geojson/$PRESET
    if [ ! -f "$GJ/enterprises.geojson" ]; then
      say "converting the seven layers to GeoJSON for Martin"
      scored_fgb
      mkdir -p "$GJ"
      for level in $GRID_LEVELS; do
        rm -f "$GJ/${level#*:}.geojson"
        ogr2ogr -f GeoJSON "$GJ/${level#*:}.geojson" "$SCORED" -where "level='${level%%:*}'" -lco RFC7946=YES
      done
      for layer in $OTHER_LAYERS; do
        rm -f "$GJ/$layer.partial.geojson"
        ogr2ogr -f GeoJSON "$GJ/$layer.partial.geojson" "$DATA/$layer.fgb" -lco RFC7946=YES
        mv "$GJ/$layer.partial.geojson" "$GJ/$layer.geojson"
      done
    fi
    MG_PORT=$(free_port)
    python3 - "$MG_PORT" "$GJ" "$LAYERS" >"$WORK/martin-geojson-$PRESET.yaml" <<'EOF'
import json, sys
listen, folder, layers = sys.argv[1:]
names = layers.split(",")
print(json.dumps({
    "listen_addresses": f"127.0.0.1:{listen}",
    "worker_processes": 2,
    "cache_size_mb": 0,
    "geojson": {"sources": {name: f"{folder}/{name}.geojson" for name in names}},
}, indent=1))
EOF
    say "Martin + GeoJSON in memory: load, uncached tiles"
    t0=$(now)
    "$MARTIN" --config "$WORK/martin-geojson-$PRESET.yaml" >"$WORK/martin-geojson.log" 2>&1 &
    MG_PID=$!
    PIDS+=("$MG_PID")
    MG_BASE=http://127.0.0.1:$MG_PORT
    wait_http "$MG_BASE/catalog"
    row "Martin GeoJSON: start → /catalog answered" "$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$(now)") s"
    row "Martin GeoJSON: RSS after load" "$(($(kb_of "$MG_PID" VmRSS) / 1024)) MiB"
    # Martin's GeoJSON sources have no minimum zoom: each request names the layers
    # riskmap's tile policy draws at that zoom (the Martin + PostGIS config has the same minzooms).
    zoom_paths "$LISTS/tiles.txt" >"$WORK/$PRESET-tiles-by-zoom.txt"
    read -r _ empty mean p95 max <<<"$(MINZOOMS=$MINZOOMS python3 scripts/bench/tiles.py sizes "$MG_BASE/{layers}/{z}/{x}/{y}" "$LISTS/tiles.txt" "$SAMPLE")"
    row "Martin GeoJSON tile sizes (same $SAMPLE tiles)" "mean $mean B, p95 $p95 B, max $max B, $empty empty"
    mg=$(load_row "Martin 1.14, GeoJSON in memory, uncached (same 7 layers)" \
      "$(load "$MG_BASE" "$WORK/$PRESET-tiles-by-zoom.txt" "" "" "")" "raw features: no clustering or simplification")
    row "Martin GeoJSON: RSS after the load run" "$(($(kb_of "$MG_PID" VmRSS) / 1024)) MiB"
    stop "$MG_PID"
  else
    echo "Martin ($MARTIN) or ogr2ogr missing: Martin GeoJSON skipped (see docs/benchmark-peers.md)" >&2
  fi
fi

# --- Martin + PostGIS raw tables ------------------------------------------------
if want martin; then
  if command -v "$MARTIN" >/dev/null && pg_available; then
    pg_start
    pg_load_tiles
    # The same zoom ranges as riskmap's tile policy (src/tiles/policy.rs).
    MT_PORT=$(free_port)
    python3 - "$PG_PORT" "$DB" "$MT_PORT" "$MINZOOMS" >"$WORK/martin-$PRESET.yaml" <<'EOF'
import json, subprocess, sys
port, db, listen, minzooms = sys.argv[1:]
minzoom = {kv.split("=")[0]: int(kv.split("=")[1]) for kv in minzooms.split()}
tables = {}
for t, mz in minzoom.items():
    geom_type = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db, "-tAc",
         f"select type from geometry_columns where f_table_schema = 'public' and f_table_name = '{t}'"],
        check=True, capture_output=True, text=True).stdout.strip()
    cols = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db, "-tAc",
         f"select column_name || ' ' || udt_name from information_schema.columns where table_schema = 'public' "
         f"and table_name = '{t}' and column_name not in ('geom', 'ogc_fid')"],
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
    say "Martin + PostGIS raw tables: uncached tiles"
    "$MARTIN" --config "$WORK/martin-$PRESET.yaml" >"$WORK/martin.log" 2>&1 &
    MT_PID=$!
    PIDS+=("$MT_PID")
    wait_http "http://127.0.0.1:$MT_PORT/catalog"
    MT_BASE=http://127.0.0.1:$MT_PORT
    read -r _ empty mean p95 max <<<"$(python3 scripts/bench/tiles.py sizes "$MT_BASE/$LAYERS/{z}/{x}/{y}" "$LISTS/tiles.txt" "$SAMPLE")"
    row "Martin + PostGIS raw tables tile sizes (same $SAMPLE tiles)" "mean $mean B, p95 $p95 B, max $max B, $empty empty"
    mt=$(load_row "Martin 1.14 + PostGIS raw tables, uncached (same 7 layers)" \
      "$(load "$MT_BASE" "$LISTS/tiles.txt" "/$LAYERS/" "" "")" "raw features: no clustering or simplification")
    stop "$MT_PID"
  else
    echo "Martin ($MARTIN), PostgreSQL 15 + PostGIS or ogr2ogr missing: Martin + PostGIS skipped (see docs/benchmark-peers.md)" >&2
  fi
fi

# --- pygeoapi: OGC API - Features items from PostGIS ---------------------------
if want pygeoapi; then
  if pg_available; then
    VENV=$WORK/pygeoapi/venv
    if ! "$VENV/bin/python" -c "import pygeoapi, sys; sys.exit(pygeoapi.__version__ != '$PYGEOAPI_VERSION')" 2>/dev/null \
      || [ ! -x "$VENV/bin/gunicorn" ]; then
      say "installing pygeoapi $PYGEOAPI_VERSION into $VENV"
      python3 -m venv "$VENV"
      "$VENV/bin/pip" install -q "pygeoapi==$PYGEOAPI_VERSION" psycopg2-binary SQLAlchemy GeoAlchemy2 gunicorn
    fi
    pg_start
    pg_load_ogc
    PY_PORT=$(free_port)
    PY_CFG=$WORK/pygeoapi/config-$PRESET.yml
    # JSON is YAML: pygeoapi's PostgreSQL provider on the cells table, no
    # reprojection per request (stored in WGS 84), pages of up to 1000 items.
    python3 - "$PY_PORT" "$PG_PORT" "$DB" >"$PY_CFG" <<'EOF'
import json, sys
port, pg_port, db = sys.argv[1:]
url = f"http://127.0.0.1:{port}"
print(json.dumps({
    "server": {"bind": {"host": "127.0.0.1", "port": int(port)}, "url": url,
               "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8",
               "languages": ["en-US"], "pretty_print": False,
               "limits": {"default_items": 10, "max_items": 1000},
               "map": {"url": "http://127.0.0.1/{z}/{x}/{y}.png", "attribution": ""}},
    "logging": {"level": "ERROR"},
    "metadata": {
        "identification": {"title": "riskmap bench", "description": "scored grid cells",
                           "keywords": ["risk"], "keywords_type": "theme", "terms_of_service": "",
                           "url": url},
        "license": {"name": "n/a", "url": url}, "provider": {"name": "bench", "url": url},
        "contact": {"name": "bench"}},
    "resources": {"cells": {
        "type": "collection", "title": "cells", "description": "scored grid cells",
        "keywords": ["risk"],
        "extents": {"spatial": {"bbox": [-180, -90, 180, 90],
                                "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "providers": [{"type": "feature", "name": "PostgreSQL",
                       "data": {"host": "127.0.0.1", "port": int(pg_port), "dbname": db,
                                "user": "postgres", "search_path": ["ogc"]},
                       "id_field": "id", "table": "cells", "geom_field": "geom"}]}},
}, indent=1))
EOF
    PYGEOAPI_CONFIG=$PY_CFG "$VENV/bin/pygeoapi" openapi generate "$PY_CFG" --output-file "$WORK/pygeoapi/openapi-$PRESET.yml" >"$WORK/pygeoapi/openapi.log" 2>&1
    say "pygeoapi $PYGEOAPI_VERSION (gunicorn $PYGEOAPI_WSGI): OGC items"
    # shellcheck disable=SC2086 # PYGEOAPI_WSGI holds several gunicorn options
    PYGEOAPI_CONFIG=$PY_CFG PYGEOAPI_OPENAPI=$WORK/pygeoapi/openapi-$PRESET.yml \
      "$VENV/bin/gunicorn" $PYGEOAPI_WSGI --bind "127.0.0.1:$PY_PORT" pygeoapi.flask_app:APP \
      >"$WORK/pygeoapi/gunicorn.log" 2>&1 &
    PY_PID=$!
    PIDS+=("$PY_PID")
    PY_BASE=http://127.0.0.1:$PY_PORT
    wait_http "$PY_BASE/collections/cells?f=json"
    sed 's|^/ogc/collections/cells/items?\(.*\)$|/collections/cells/items?\1\&f=json|' "$LISTS/ogc.txt" >"$WORK/$PRESET-ogc-pygeoapi.txt"
    read -r pages mean feats props <<<"$(python3 scripts/bench/ogc.py pages "$PY_BASE" "$WORK/$PRESET-ogc-pygeoapi.txt" 5)"
    row "pygeoapi items page (first $pages pages of the list)" "mean $mean B, $feats features, properties $props"
    [ "$feats/$props" = "$rm_ogc_page" ] || echo "warning: pygeoapi pages ($feats features: $props) differ from riskmap's ($rm_ogc_page)" >&2
    py=$(load_row "pygeoapi $PYGEOAPI_VERSION + PostGIS cells items, limit=1000" \
      "$(load "$PY_BASE" "$WORK/$PRESET-ogc-pygeoapi.txt" "" "" "")" "gunicorn $PYGEOAPI_WSGI")
    stop "$PY_PID"
  else
    echo "PostgreSQL 15 + PostGIS or ogr2ogr missing: pygeoapi skipped (see docs/benchmark-peers.md)" >&2
  fi
fi
pg_stop

cat "$LOADS" >>"$RESULTS"
rm -f "$LOADS"
{
  echo
  echo "| ratio | value |"
  echo "|---|---|"
  [ -n "${mf:-}" ] && echo "| **riskmap uncached ÷ Martin + PostGIS function source uncached (req/s, the same generalised map)** | **$(ratio "$rm_uncached" "$mf")** |"
  [ -n "${mt:-}" ] && echo "| riskmap uncached ÷ Martin + PostGIS raw tables uncached (req/s, raw features) | $(ratio "$rm_uncached" "$mt") |"
  [ -n "${mg:-}" ] && echo "| riskmap uncached ÷ Martin GeoJSON in memory uncached (req/s) | $(ratio "$rm_uncached" "$mg") |"
  [ -n "${ng:-}" ] && echo "| riskmap cached ÷ nginx static (req/s) | $(ratio "$rm_cached" "$ng") |"
  [ -n "${py:-}" ] && echo "| riskmap OGC items ÷ pygeoapi (req/s) | $(ratio "$rm_ogc" "$py") |"
  true
} >>"$RESULTS"
cat "$RESULTS"
