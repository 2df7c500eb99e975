#!/usr/bin/env bash
# Soak test on loopback: the release server on a GeoJSON copy of the demo
# city, mixed tile + OGC + /api load, and a reload every few seconds that
# alternates valid and corrupt hazard-source data. Prints requests, errors,
# reloads and the server's RSS over time; exits 1 on any 5xx, transport
# error, wrong-version answer or unexpected reload outcome.
# Usage: scripts/soak.sh [SECONDS] [CLIENTS]   (defaults: 300 s, 32 clients)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL="${1:-300}"
CLIENTS="${2:-32}"
TARGET="${CARGO_TARGET_DIR:-target}"

cargo build --release --bin riskmap --example soak
BIN="$TARGET/release/riskmap"
SOAK="$TARGET/release/examples/soak"

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

echo "== generating the demo city as GeoJSON in $WORK/data"
"$BIN" generate --preset quanzhou --seed 42 --format geojson --out "$WORK/data" >/dev/null
cp data/demo-tokens.toml "$WORK/tokens.toml"
cat > "$WORK/riskmap.toml" <<TOML
data = "$WORK/data"
tokens = "$WORK/tokens.toml"
TOML

echo "== starting the server"
(cd "$WORK" && exec "$BIN" serve --addr 127.0.0.1:0 >"$WORK/server.log" 2>&1) &
SERVER_PID=$!
BASE=""
for _ in $(seq 1 600); do
  BASE="$(grep -o 'listening on http://[0-9.:]*' "$WORK/server.log" | head -1 | sed 's/listening on //')" || true
  [ -n "$BASE" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.1
done
[ -n "$BASE" ] || { echo "server did not start"; cat "$WORK/server.log"; exit 1; }
echo "== $BASE (pid $SERVER_PID), $SECONDS_TOTAL s, $CLIENTS clients"

status=0
"$SOAK" --base "$BASE" --pid "$SERVER_PID" --data "$WORK/data" \
  --admin demo-admin-4be2d058 --planner demo-planner-7f3a91c2 \
  --seconds "$SECONDS_TOTAL" --clients "$CLIENTS" --interval 30 --reload-every 5 || status=$?

echo "== SIGTERM"
kill -TERM "$SERVER_PID"
started=$(date +%s)
wait "$SERVER_PID" && code=0 || code=$?
echo "server exited with $code after $(( $(date +%s) - started )) s"
SERVER_PID=""
[ "$code" -eq 0 ] || status=1
exit "$status"
