#!/usr/bin/env bash
# Fuzzes the OGC API – Features from its own OpenAPI document with
# schemathesis: the release server on the demo city on loopback, once
# anonymous and once with the planner token. Fails on any 5xx, on a status
# code or content type the document does not declare, and on a response that
# does not match its schema.
#
# Usage: scripts/schemathesis.sh [SECONDS per run, default 120]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-120}
PLANNER=demo-planner-7f3a91c2
command -v st >/dev/null || python3 -m pip install -q schemathesis
cargo build --release --quiet --bin riskmap
DATA=data/quanzhou
[ -d "$DATA" ] || target/release/riskmap generate --preset quanzhou --seed 42 --out "$DATA"
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/release/riskmap serve --data "$DATA" --addr "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 300); do curl -fso /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 0.1; done
BASE=http://127.0.0.1:$PORT/ogc
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
status=0
for who in anonymous planner; do
  echo "== schemathesis, $who, ${SECONDS_PER_RUN}s"
  auth=()
  [ "$who" = planner ] && auth=(-H "Authorization: Bearer $PLANNER")
  st --no-color run "$BASE/api" --url "$BASE" "${auth[@]}" --checks "$CHECKS" \
    --max-time "$SECONDS_PER_RUN" --request-timeout 30 --workers 2 || status=1
done
if grep -q "panicked" "$WORK/server.log"; then
  echo "the server logged a panic:" >&2
  grep -A3 panicked "$WORK/server.log" >&2
  status=1
fi
exit $status
