#!/usr/bin/env bash
# Cached tiles, two riskmap builds and nginx on the same bytes, measured
# alternately (A, B, nginx, A, B, nginx, …) so that the machine's load
# weighs on each alike.
#
# Usage: scripts/bench/cached-ab.sh BIN_A BIN_B DATA TILES_LIST [ROUNDS]
#   TILES_LIST: z/x/y lines (e.g. $BENCH_DIR/PRESET/tiles.txt of bench.sh).
# Environment: DURATION=10 (s per run), CONNECTIONS=50, THREADS=2,
#   TOKEN=demo-planner-7f3a91c2 (as bench.sh: planner tiles, all 7 layers).
# Prints one line per run: label, req/s, p50 ms, p99 ms, non-2xx, errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
A=$1 B=$2 DATA=$3 LIST=$4 ROUNDS=${5:-2}
DURATION=${DURATION:-10} CONN=${CONNECTIONS:-50} THREADS=${THREADS:-2}
TOKEN=${TOKEN-demo-planner-7f3a91c2}
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
printf 'tokens = "%s"\nsnapshot_cache = false\n[tiles]\ncache_mb = 1024\n[limits]\nmax_concurrent_requests = 4096\n' \
  "$ROOT/data/demo-tokens.toml" >"$WORK/rm.toml"
load() { # BASE
  PATHS=$LIST PREFIX=/tiles/ SUFFIX=.mvt TOKEN=$TOKEN wrk -t"$THREADS" -c"$CONN" -d"${DURATION}s" \
    --timeout 30s -s "$ROOT/scripts/bench/replay.lua" "$1" 2>&1 | grep '^BENCH' | tail -n 1 |
    python3 -c 'import sys
f = dict(kv.split("=") for kv in sys.stdin.read().split()[1:])
s = int(f["duration_us"]) / 1e6
r, p50, p99 = int(f["requests"]) / s, int(f["p50_us"]) / 1000, int(f["p99_us"]) / 1000
print(f"{r:.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, non-2xx", f["errors_status"], "errors", f["errors_other"])'
}
start() { # BIN LABEL → serving, cache warmed; sets PORT PID
  PORT=$(port)
  cp -r "$DATA" "$WORK/data-$2"
  "$1" --config "$WORK/rm.toml" serve --data "$WORK/data-$2" --addr "127.0.0.1:$PORT" >"$WORK/$2.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  until curl -fso /dev/null "http://127.0.0.1:$PORT/health"; do sleep 0.1; done
  while curl -fs "http://127.0.0.1:$PORT/health" | grep -q history_opening; do sleep 0.2; done
  python3 scripts/bench/tiles.py dump "http://127.0.0.1:$PORT/tiles/{z}/{x}/{y}.mvt" "$LIST" "$WORK/static-$2/tiles" "$TOKEN"
}
start "$A" a
PA=$PORT
start "$B" b
PB=$PORT
# nginx serves A's bytes (bench.sh's configuration).
NP=$(port)
cat >"$WORK/nginx.conf" <<NGINX
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  server {
    listen 127.0.0.1:$NP;
    root $WORK/static-a;
    location /tiles/ { default_type application/vnd.mapbox-vector-tile; try_files \$uri =204; }
  }
}
NGINX
nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
PIDS+=("$!")
until curl -so /dev/null "http://127.0.0.1:$NP/"; do sleep 0.1; done
cmp -s <(cd "$WORK/static-a" && find . -type f -exec sha256sum {} + | sort) \
  <(cd "$WORK/static-b" && find . -type f -exec sha256sum {} + | sort) &&
  echo "A and B served the same tile bytes" || echo "A and B served DIFFERENT tile bytes"
for r in $(seq 1 "$ROUNDS"); do
  echo "A     $(load "http://127.0.0.1:$PA") load $(cut -d' ' -f1 /proc/loadavg)"
  echo "B     $(load "http://127.0.0.1:$PB") load $(cut -d' ' -f1 /proc/loadavg)"
  echo "nginx $(load "http://127.0.0.1:$NP") load $(cut -d' ' -f1 /proc/loadavg)"
done
