#!/usr/bin/env bash
# Uncached tiles, several wrk runs in a row right after a start: the same
# server (tile cache off) replays one request list RUNS times, 50
# connections, the planner token. Shows whether the first run after a
# start differs from the next ones.
#
# Usage (from the repository root, demo tokens in data/; needs wrk):
#   scripts/bench/uncached-runs.sh BIN DATA LIST [RUNS] ['[tiles] key = value' …]
# LIST: z/x/y lines (scripts/bench.sh writes one, BENCH_DIR/PRESET/tiles.txt).
# Further arguments are lines added under [tiles] of the server's config,
# e.g. 'build_threads = 512' 'build_nice = 0'. DURATION (10) seconds per run.
set -euo pipefail
BIN=$(realpath "$1")
DATA=$2
LIST=$(realpath "$3")
RUNS=${4:-3}
shift $(($# < 4 ? $# : 4))
ROOT=$PWD
WORK=$(mktemp -d /tmp/riskmap-uncached.XXXXXX)
{
  printf 'tokens = "%s"\n[tiles]\ncache_mb = 0\n' "$ROOT/data/demo-tokens.toml"
  for line in "$@"; do echo "$line"; done
  printf '[limits]\nmax_concurrent_requests = 4096\n'
} >"$WORK/riskmap.toml"
# shellcheck source=scripts/bench/serve.sh
. "$ROOT/scripts/bench/serve.sh"
trap 'stop_riskmap; rm -rf "$WORK"' EXIT
serve_riskmap "$WORK/serve.log" "$BIN" --config "$WORK/riskmap.toml" -- "$DATA"
for run in $(seq 1 "$RUNS"); do
  PATHS=$LIST PREFIX=/tiles/ SUFFIX=.mvt TOKEN=demo-planner-7f3a91c2 \
    wrk -t2 -c50 -d"${DURATION:-10}s" --timeout 30s -s "$ROOT/scripts/bench/replay.lua" "http://127.0.0.1:$P" 2>&1 |
    grep '^BENCH' | tail -n 1 | python3 -c '
import sys
f = dict(kv.split("=") for kv in sys.stdin.read().split()[1:])
secs = int(f["duration_us"]) / 1e6
print("run %s: %.0f req/s, p50 %.1f ms, p99 %.1f ms, non-2xx %s, errors %s" % (sys.argv[1],
      int(f["requests"]) / secs, int(f["p50_us"]) / 1000, int(f["p99_us"]) / 1000,
      f["errors_status"], f["errors_other"]))' "$run"
done
