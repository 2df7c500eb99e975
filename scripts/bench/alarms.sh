#!/usr/bin/env bash
# Monitoring alarms under tile load: tiles alone, then tiles while
# `scripts/alarm-load.py` posts RATE alarms a second for SECONDS (in
# BATCHES batches a second), then a restart that must still count every
# alarm.
#
# Usage (from the repository root, demo tokens in data/; needs wrk and
# ogr2ogr):
#   scripts/bench/alarms.sh BIN DATA [RATE] [SECONDS] [CONNECTIONS] [BATCHES]
# Defaults: 1000 alarms/s for 60 s, 50 tile connections, 10 batches/s.
# DATA must hold sensors (sensors.fgb); the tiles are TILES (default
# 20000) random z10–14 tiles around the sensors, read with a planner token
# (the alarm layer included).
set -euo pipefail
BIN=$(realpath "$1")
DATA=$2
RATE=${3:-1000}
SECONDS_=${4:-60}
CONN=${5:-50}
BATCHES=${6:-10}
PLANNER=demo-planner-7f3a91c2
ADMIN=demo-admin-4be2d058
ROOT=$PWD
WORK=$(mktemp -d /tmp/riskmap-alarm-bench.XXXXXX)
# shellcheck source=scripts/bench/serve.sh
. "$ROOT/scripts/bench/serve.sh"
serve() { serve_riskmap "$1" "$BIN" -- "$DATA"; } # serve LOG: sets P and PID
alarms() { curl -fs "http://127.0.0.1:$P/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["alarms"])'; }
trap 'kill "${WRK:-}" 2>/dev/null || true; stop_riskmap; rm -rf "$WORK"' EXIT

ogr2ogr -f GeoJSON "$WORK/sensors.geojson" "$DATA/sensors.fgb"
python3 - "$WORK/sensors.geojson" "${TILES:-20000}" >"$WORK/paths" <<'PY'
import json, math, random, sys
pts = [f["geometry"]["coordinates"] for f in json.load(open(sys.argv[1]))["features"]]
count = int(sys.argv[2])
random.seed(11)
def tile(lon, lat, z):
    n = 2 ** z
    r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
for _ in range(count):
    lon, lat = random.choice(pts)
    z = random.randint(10, 14)
    x, y = tile(lon + random.uniform(-0.05, 0.05), lat + random.uniform(-0.05, 0.05), z)
    print(f"/tiles/{z}/{x}/{y}.mvt")
PY
serve "$WORK/first.log"
before=$(alarms)
wrk_run() { # wrk_run SECONDS: the tile list, planner token, gzip
  PATHS=$WORK/paths TOKEN=$PLANNER wrk -t2 -c"$CONN" -d"${1}s" -H 'Accept-Encoding: gzip' \
    -s "$ROOT/scripts/bench/replay.lua" "http://127.0.0.1:$P" | grep BENCH
}
echo "tiles idle, $CONN connections: $(wrk_run 20 | sed 's/^BENCH //')"
wrk_run "$SECONDS_" >"$WORK/loaded" &
WRK=$!
"$ROOT/scripts/alarm-load.py" --base "http://127.0.0.1:$P" --token "$ADMIN" \
  --sensors "$WORK/sensors.geojson" --rate "$RATE" --seconds "$SECONDS_" --batches "$BATCHES" | tail -1
wait "$WRK"
echo "tiles under alarms, $CONN connections: $(sed 's/^BENCH //' "$WORK/loaded")"
# The write path's histograms: how many derivations and journal commits
# (write + fsync) took longer than 10, 25 and 50 ms, and their means.
{ curl -fs -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$P/metrics" || true; } | python3 -c '
import re, sys
m = {}
for line in sys.stdin:
    g = re.match(r"riskmap_(write_derive|journal_commit)_seconds_(bucket\{le=\"([^\"]+)\"\}|sum|count) (\S+)", line)
    if g:
        m[(g.group(1), g.group(3) or g.group(2))] = float(g.group(4))
for name in ("write_derive", "journal_commit"):
    n = m.get((name, "count"), 0)
    if n and (name, "0.01") in m:
        over = ", ".join(f"> {int(float(b) * 1000)} ms: {int(n - m[(name, b)])}" for b in ("0.01", "0.025", "0.05"))
        mean = m[(name, "sum")] / n * 1000
        print(f"{name}: {int(n)}, mean {mean:.1f} ms, {over}")
' || true

after=$(alarms)
kill "$PID"
wait "$PID" 2>/dev/null || true
serve "$WORK/second.log"
echo "alarms: $before before, $after after the run, $(alarms) after a restart"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
