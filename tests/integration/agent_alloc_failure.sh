#!/usr/bin/env bash
# An allocation that fails in the agent's thread fails that one request, not the host (issue 18,
# item 3). Before: in a C host the agent's operator new found no libstdc++ below it and called
# abort(); in a C++ host the host's std::bad_alloc left the agent's thread (std::terminate).
# A fault shim preloaded after the agent (tests/agent/alloc_fault.c) fails every allocation of
# 1 KiB or more made by the agent's thread: /debug/pprof/heap?debug=1 needs such allocations
# (503), /healthz does not (200 before and after), and the host lives on.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
SHIM=$BUILD/libagent_alloc_fault.so

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://$ADDR$1" || true; }

for host in "/bin/sleep 600" "$BUILD/agent_robustness pause"; do
  echo "== host: $host"
  # shellcheck disable=SC2086  # the host command is split on purpose
  start_agent host LD_PRELOAD="$AGENT:$SHIM" ALLOC_FAULT_MIN=1024 -- $host
  [[ $(code /healthz) == 200 ]] || fail "$host: /healthz before"
  for round in 1 2 3; do
    got=$(code "/debug/pprof/heap?debug=1")
    [[ $got == 503 ]] || fail "$host: heap?debug=1 round $round answered $got (want 503)"
  done
  [[ $(code /healthz) == 200 ]] || fail "$host: /healthz after the failed requests"
  kill -0 "$PID" 2>/dev/null || fail "$host died: $(tail -3 "$TMP/host.log")"
  grep -q "out of memory" "$TMP/host.log" && fail "logged a dropped round: $(cat "$TMP/host.log")"
  stop_children
done

echo "== a dump that runs out of memory is skipped; the host lives on"
start_agent dump LD_PRELOAD="$AGENT:$SHIM" ALLOC_FAULT_MIN=1024 LEAKSCOPE_DUMP_DIR="$TMP" \
  LEAKSCOPE_DUMP_INTERVAL=1 -- "$BUILD/agent_robustness" pause
wait_for_line "$TMP/dump.log" "out of memory while writing a dump"
kill -0 "$PID" 2>/dev/null || fail "dumping host died: $(tail -3 "$TMP/dump.log")"
[[ $(code /healthz) == 200 ]] || fail "/healthz of the dumping host"
echo PASS
