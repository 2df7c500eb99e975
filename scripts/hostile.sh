#!/usr/bin/env bash
# Hostile clients on loopback: the release server on the demo city with the
# default limits, 500 connections that request a 10,000-cell OGC page and
# never read, and 200 idle connections (from 127.0.0.2…, reopened whenever
# the server closes them), for 60 s. Meanwhile /health and an uncached tile
# are asked from 127.0.0.1 every 250 ms. Prints latencies, closures and the
# server's RSS; exits 1 if a probe failed or took 1 s or more, or a slow
# socket outlived the write timeout (30 s) by more than 5 s.
# Usage: scripts/hostile.sh [SECONDS] [SLOW] [IDLE]   (defaults: 60 500 200)
# PROFILE=debug uses the dev build instead of the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL="${1:-60}"
SLOW="${2:-500}"
IDLE="${3:-200}"
TARGET="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)"

PROFILE="${PROFILE:-release}"
if [ "$PROFILE" = release ]; then
  cargo build --release --bin riskmap --example hostile
else
  cargo build --bin riskmap --example hostile
  PROFILE=debug
fi
BIN="$TARGET/$PROFILE/riskmap"
HOSTILE="$TARGET/$PROFILE/examples/hostile"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== generating the demo city in $WORK/data"
"$BIN" generate --preset quanzhou --seed 42 --out "$WORK/data" >/dev/null
printf 'data = "%s"\ntokens = "%s"\n' "$WORK/data" "$PWD/data/demo-tokens.toml" >"$WORK/riskmap.toml"

echo "== starting the server (default limits)"
(cd "$WORK" && exec "$BIN" serve --addr 127.0.0.1:0 >"$WORK/server.log" 2>&1) &
SERVER_PID=$!
ADDR=""
for _ in $(seq 1 600); do
  ADDR="$(grep -o 'listening on http://[0-9.:]*' "$WORK/server.log" | head -1 | sed 's|listening on http://||')" || true
  [ -n "$ADDR" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.1
done
[ -n "$ADDR" ] || { echo "server did not start"; cat "$WORK/server.log"; exit 1; }
echo "== $ADDR (pid $SERVER_PID), $SECONDS_TOTAL s, $SLOW slow + $IDLE idle"

status=0
"$HOSTILE" --addr "$ADDR" --pid "$SERVER_PID" --slow "$SLOW" --idle "$IDLE" \
  --seconds "$SECONDS_TOTAL" --close-within 35 || status=$?
echo "== server counters"
curl -s "http://$ADDR/metrics" | grep -E 'riskmap_http_rejected_total' || true

echo "== SIGTERM"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" && code=0 || code=$?
echo "server exited with $code"
SERVER_PID=""
[ "$code" -eq 0 ] || status=1
exit "$status"
