# Sourced by the benchmark scripts: start `riskmap serve` on a free
# loopback port and wait until it answers and its history is open.
#
#   serve_riskmap LOG BIN [ARGS before serve…] -- DATA
# sets P (the port) and PID; exits with the server's log if it dies first.
#   stop_riskmap   stops it and waits until it has exited (before its data
#                  folder is removed).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
serve_riskmap() {
  local log=$1 bin=$2 args=()
  shift 2
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  P=$(free_port)
  RUST_LOG=info "$bin" "${args[@]}" serve --data "$2" --addr "127.0.0.1:$P" >"$log" 2>&1 &
  PID=$!
  until curl -fso /dev/null "http://127.0.0.1:$P/health"; do
    kill -0 "$PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
  done
  # The history opens in the background: let it finish first.
  while curl -fs "http://127.0.0.1:$P/health" | grep -q history_opening; do sleep 0.2; done
}
stop_riskmap() {
  if [ -n "${PID:-}" ]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
}
