#!/usr/bin/env bash
# The time dimension on a dataset (the province for issue figures):
#   1. start-up that builds the whole year of history (days, ms);
#   2. a cell's 365-day history (`/api/cells/{code}/history`, daily steps)
#      under wrk, random cells, planner token, 1 and CONNECTIONS
#      connections: p50/p99;
#   3. the monthly report (月通报) of every county, JSON and XLSX: the
#      slowest answer;
#   4. a restart one day later: the day the history lacks is computed and
#      written (days, ms from the log).
#
# Usage (from the repository root, demo tokens in data/):
#   scripts/bench/history.sh BIN DATA [AS_OF] [SECONDS] [CONNECTIONS]
# AS_OF (default 2026-12-06) must be the dataset's [risk] as_of day (the
# generator's --as-of): the history ends on it.
set -euo pipefail
BIN=$(realpath "$1")
DATA=$2
AS_OF=${3:-2026-12-06}
DURATION=${4:-20}
CONN=${5:-8}
TOKEN=demo-planner-7f3a91c2
ROOT=$PWD
WORK=$(mktemp -d /tmp/riskmap-history-bench.XXXXXX)
# shellcheck source=scripts/bench/serve.sh
. "$ROOT/scripts/bench/serve.sh"
serve() { # serve NOW LOG: the server with the clock at NOW; sets P and PID
  RISKMAP_NOW="$1T12:00:00+08:00" serve_riskmap "$2" "$BIN" -- "$DATA"
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
history_line() { sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -oE 'days=[0-9]+ rebuilt=[a-z]+ elapsed_ms=[0-9]+' | tail -1; }
trap 'stop_riskmap; rm -rf "$WORK"' EXIT

serve "$AS_OF" "$WORK/first.log"
echo "history at start-up: $(history_line "$WORK/first.log")"
FROM=$(date -d "$AS_OF -364 days" +%F)
# 500 random cells and every county, from the public ranking endpoints.
curl -fs "http://127.0.0.1:$P/ogc/collections/cells/items?limit=10000&properties=code" |
  python3 -c 'import json,random,sys; random.seed(7); c=[f["properties"]["code"] for f in json.load(sys.stdin)["features"]]; print("\n".join(random.sample(c, min(500, len(c)))))' |
  sed "s|.*|/api/cells/&/history?from=$FROM\&to=$AS_OF\&step=day|" >"$WORK/paths"
curl -fs "http://127.0.0.1:$P/ogc/collections/counties/items?limit=1000&properties=code" |
  python3 -c 'import json,sys; print("\n".join(f["properties"]["code"] for f in json.load(sys.stdin)["features"]))' >"$WORK/counties"
first=$(head -1 "$WORK/paths")
days=$(curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$P$first" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["series"]))')
echo "one history: $days points"
for c in 1 "$CONN"; do
  PATHS=$WORK/paths TOKEN=$TOKEN wrk -t1 -c"$c" -d"${DURATION}s" -s "$ROOT/scripts/bench/replay.lua" "http://127.0.0.1:$P" |
    grep BENCH | sed "s/^BENCH/cell history 365 days, $c connection(s):/"
done
MONTH=$(date -d "$AS_OF -1 month" +%Y-%m)
for f in json xlsx; do
  worst=0
  while read -r c; do
    t=$(curl -fso /dev/null -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
      "http://127.0.0.1:$P/api/report?within=$c&period=$MONTH&format=$f")
    worst=$(python3 -c "print(max($worst, $t))")
  done <"$WORK/counties"
  echo "monthly report $MONTH, $(wc -l <"$WORK/counties") counties, $f: slowest ${worst} s"
done
stop
NEXT=$(date -d "$AS_OF +1 day" +%F)
serve "$NEXT" "$WORK/next.log"
echo "restart on $NEXT: $(history_line "$WORK/next.log")"
stop
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
