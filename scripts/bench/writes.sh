#!/usr/bin/env bash
# Hidden-danger writes on a fresh copy of a dataset: `riskmap serve`, wait
# for the history, `examples/write_load.rs` (50 writers), then the server's
# own figures from /metrics (write derivation, group commits, the write
# routes' latency).
#
# Usage (from the repository root, demo tokens in data/):
#   scripts/bench/writes.sh BIN DATA RATE READERS [SECONDS]
# RATE: writes per second offered (0: closed loop); READERS: tile readers.
# READ_BBOX=W,S,E,N: the readers read tiles there instead of where the
# writes go (tiles away from the writes). STALE_MS=N: serve with
# `[tiles] stale_ms = N` (tiles may lag the writes by N ms). READ_RATE=R:
# the readers ask for R tiles a second together (open loop) instead of
# one after another as fast as they are answered.
set -euo pipefail
BIN=$(realpath "$1")
DATA=$(realpath "$2")
RATE=$3
READERS=$4
SECS=${5:-15}
ROOT=$PWD
WORK=$(mktemp -d /tmp/riskmap-writes.XXXXXX)
# The base files (hard links when possible), the snapshot cache and, when
# DATA has no journal, its history: a fresh journal over the same base.
for f in "$DATA"/*; do
  [ -f "$f" ] && [ "$(basename "$f")" != journal.jsonl ] || continue
  ln "$f" "$WORK/" 2>/dev/null || cp "$f" "$WORK/"
done
if [ -d "$DATA/.riskmap-cache" ]; then cp -r "$DATA/.riskmap-cache" "$WORK/"; fi
if [ -f "$DATA/.journal.history.sqlite" ] && [ ! -e "$DATA/journal.jsonl" ]; then
  for f in "$DATA"/.journal.history.sqlite*; do cp "$f" "$WORK/"; done # with -wal, -shm
fi
printf 'tokens = "%s"\n' "$ROOT/data/demo-tokens.toml" >"$WORK/riskmap.toml"
if [ -n "${STALE_MS:-}" ]; then printf '[tiles]\nstale_ms = %s\n' "$STALE_MS" >>"$WORK/riskmap.toml"; fi
# shellcheck source=scripts/bench/serve.sh
. "$ROOT/scripts/bench/serve.sh"
trap 'stop_riskmap; rm -rf "$WORK"' EXIT
serve_riskmap "$WORK/serve.log" "$BIN" --config "$WORK/riskmap.toml" -- "$WORK"
cargo build --release --quiet --example write_load
RATE_ARGS=()
[ "$RATE" != 0 ] && RATE_ARGS=(--rate "$RATE")
"$ROOT/target/release/examples/write_load" --base "http://127.0.0.1:$P" \
  --planner demo-planner-7f3a91c2 --admin demo-admin-4be2d058 --clients 50 --seconds "$SECS" \
  --readers "$READERS" "${RATE_ARGS[@]}" --bbox 118.55,24.85,118.65,24.95 \
  ${READ_BBOX:+--read-bbox "$READ_BBOX"} ${READ_RATE:+--read-rate "$READ_RATE"}
curl -fs "http://127.0.0.1:$P/metrics" | grep -E '^riskmap_tile_cache_requests_total' || true
curl -fs "http://127.0.0.1:$P/metrics" |
  grep -E '^riskmap_(write_derive|journal_)|^riskmap_http_request_duration_seconds_(sum|count)\{route="/api/hidden-dangers' |
  python3 -c '
import sys
m = dict(l.rsplit(" ", 1) for l in sys.stdin.read().splitlines())
d, n = float(m["riskmap_write_derive_seconds_sum"]), float(m["riskmap_write_derive_seconds_count"])
c, k = float(m["riskmap_journal_commit_seconds_sum"]), float(m["riskmap_journal_commit_seconds_count"])
a = float(m["riskmap_journal_appends_total"])
print("server: derive %.2f ms per write, group commit %.2f ms for %.1f appends" % (1e3 * d / max(n, 1), 1e3 * c / max(k, 1), a / max(k, 1)))'
