# Shared by the scripts that run a Prometheus server (tests/integration/fleet_*.sh and
# agent_prometheus.sh; sourced, not a test): Debian's Prometheus on a free loopback port over a
# temporary TSDB; skips (77) when it is not installed. Needs tests/agent/lib.sh first (TMP,
# PIDS, fail).
PROMETHEUS=$(command -v prometheus || true)
PROMTOOL=$(command -v promtool || true)
[[ -n $PROMETHEUS && -n $PROMTOOL ]] || { echo "SKIP: prometheus/promtool are not installed"; exit 77; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_prometheus CONFIG TSDB: another process may take the port between the probe and the
# bind, so up to 3 ports are tried. Sets PROM (http://host:port) and PROM_PID.
start_prometheus() {
  local attempt i addr
  for ((attempt = 0; attempt < 3; attempt++)); do
    addr=127.0.0.1:$(free_port)
    "$PROMETHEUS" --config.file="$1" --storage.tsdb.path="$2" --storage.tsdb.retention.time=30d \
      --web.listen-address="$addr" >"$TMP/prometheus.log" 2>&1 &
    PROM_PID=$!
    PIDS+=("$PROM_PID")
    for ((i = 0; i < 480; i++)); do
      if curl -sf --max-time 5 "http://$addr/-/ready" >/dev/null; then
        PROM=http://$addr
        return 0
      fi
      kill -0 "$PROM_PID" 2>/dev/null || break
      sleep 0.25
    done
    grep -q 'address already in use' "$TMP/prometheus.log" ||
      fail "prometheus did not start: $(tail -n 5 "$TMP/prometheus.log")"
  done
  fail "prometheus found no free port"
}
