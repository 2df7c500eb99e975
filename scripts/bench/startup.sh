#!/usr/bin/env bash
# Start-up of `riskmap serve`: seconds from the spawn to the first /health
# answered, and the process's peak RSS then (VmHWM); then, for a folder
# with a journal, the seconds until the history (opened in the background
# once the server listens) is ready, and the peak RSS including it.
#
# Usage: scripts/bench/startup.sh BIN DATA [RUNS]   (prints one line per run)
# Environment: RISKMAP_ARGS (extra arguments before `serve`, e.g. --config).
set -euo pipefail
BIN=$1
DATA=$2
RUNS=${3:-1}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for _ in $(seq 1 "$RUNS"); do
  P=$(port)
  LOG=$(mktemp)
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086 # RISKMAP_ARGS holds several arguments
  RUST_LOG=info "$BIN" ${RISKMAP_ARGS:-} serve --data "$DATA" --addr "127.0.0.1:$P" >"$LOG" 2>&1 &
  PID=$!
  until curl -fso /dev/null "http://127.0.0.1:$P/health"; do
    kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s.%N)
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
  while curl -fs "http://127.0.0.1:$P/health" | grep -q history_opening; do sleep 0.05; done
  t2=$(date +%s.%N)
  hwm2=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  phases=$(grep -oE '(read|index|score|tiles|cache|elapsed)_ms[^ ]*=[^ ]*[0-9]+' "$LOG" | sed 's/\x1b\[[0-9;]*m//g' | tr '\n' ' ')
  printf '%.2f s to /health, peak RSS %d MiB; history ready at %.2f s, peak RSS %d MiB; load %s; %s\n' \
    "$(echo "$t1 - $t0" | bc)" $((hwm / 1024)) "$(echo "$t2 - $t0" | bc)" $((hwm2 / 1024)) \
    "$(cut -d' ' -f1 /proc/loadavg)" "$phases"
  rm -f "$LOG"
done
