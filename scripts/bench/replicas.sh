#!/usr/bin/env bash
# Two replicas on one PostgreSQL + PostGIS (the journal in the database):
# writes through one, the lag until the other shows them.
#
# Usage (as root, PostgreSQL 15 + PostGIS and gdal-bin installed, from the
# repository root so the demo tokens are found):
#   scripts/bench/replicas.sh BIN [RATE] [SECONDS] [CLIENTS]
# BIN is a release `riskmap`; the load generator is
# `cargo run --release --example replica_lag`. Prints the example's two
# lines and the machine's load.
set -euo pipefail
BIN=$(realpath "$1")
RATE=${2:-100}
SECONDS_=${3:-30}
CLIENTS=${4:-20}
PG=/usr/lib/postgresql/15/bin
D=$(mktemp -d /tmp/riskmap-replicas.XXXXXX)
chown postgres "$D"
cleanup() {
  kill "${A:-}" "${B:-}" 2>/dev/null || true
  su postgres -c "$PG/pg_ctl -D $D/pg -m fast stop" >/dev/null 2>&1 || true
  rm -rf "$D"
}
trap cleanup EXIT
su postgres -c "$PG/initdb -D $D/pg -A trust -U postgres" >/dev/null
su postgres -c "$PG/pg_ctl -D $D/pg -o \"-k $D -c listen_addresses=''\" -l $D/log -w start" >/dev/null
psql -qh "$D" -U postgres -c 'CREATE DATABASE city'
psql -qh "$D" -U postgres -d city -c 'CREATE EXTENSION postgis'
"$BIN" generate --preset quanzhou --seed 42 --out "$D/qz" >/dev/null
for f in "$D"/qz/*.fgb; do
  ogr2ogr -f PostgreSQL "PG:host=$D user=postgres dbname=city" "$f" -nln "$(basename "$f" .fgb)"
done
URL="postgresql://postgres@$(printf %s "$D" | sed 's|/|%2F|g')/city"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PA=$(port)
PB=$(port)
RUST_LOG=warn "$BIN" serve --data "$URL" --addr "127.0.0.1:$PA" >"$D/a.log" 2>&1 &
A=$!
RUST_LOG=warn "$BIN" serve --data "$URL" --addr "127.0.0.1:$PB" >"$D/b.log" 2>&1 &
B=$!
for P in $PA $PB; do
  until curl -fso /dev/null "http://127.0.0.1:$P/health"; do
    kill -0 "$A" "$B" 2>/dev/null || { cat "$D"/a.log "$D"/b.log >&2; exit 1; }
    sleep 0.1
  done
done
cargo run -q --release --example replica_lag -- \
  --write "http://127.0.0.1:$PA" --read "http://127.0.0.1:$PB" \
  --planner demo-planner-7f3a91c2 --admin demo-admin-4be2d058 \
  --rate "$RATE" --seconds "$SECONDS_" --clients "$CLIENTS" --bbox 118.55,24.85,118.65,24.95
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
curl -s "http://127.0.0.1:$PB/health" | python3 -c 'import json,sys; print("replica B journal:", json.load(sys.stdin).get("journal"))'
