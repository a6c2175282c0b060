#!/usr/bin/env bash
# The agent's descriptors never become the host's (issue 18, item 2): a host that closes every
# descriptor (the daemon idiom, or closefrom) and opens a pipe and a file of its own keeps them
# intact (the agent thread neither reads the pipe nor writes its dump-signal byte into either,
# and a fork child's at-fork handler closes neither), the agent thread does not spin, and the
# debug server answers again on the same address. Under a soft limit of 1024 the agent's
# descriptors sit just under it, where the 3..1023 loop reaches them; above it they sit at 1024
# and up, where it does not (checked in /proc/PID/fd). dup2 of /dev/null over every number (the
# agent's too) leaves the process with no free descriptor: the agent touches none of them and
# answers again once the host frees some.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_host_fds

# run_case NAME LIMIT UPTO [closefrom]
run_case() {
  local name=$1 limit=$2 upto=$3 how=${4:-}
  echo "== $name: soft limit $limit, the host ${how:-closes 3..$((upto - 1))}"
  start_agent "$name" --fd-limit "$limit" LEAKSCOPE_DUMP_SIGNAL=USR2 LEAKSCOPE_DUMP_DIR="$TMP" \
    -- "$PROG" closeall "$upto" "$TMP/$name.ready" "$TMP/$name.go" $how
  local pid=$PID
  wait_for_file "$TMP/$name.ready"
  [[ $(curl -s --max-time 10 "http://$ADDR/healthz") == ok ]] || fail "$name: no answer before"
  local lowest
  lowest=$(find "/proc/$pid/fd" -mindepth 1 -printf '%f %l\n' | awk '$2 ~ /^socket:/ && $1 > 2 { print $1 }' | sort -n | head -n1)
  echo "agent's lowest socket descriptor: $lowest"
  [[ -n $lowest ]] || fail "$name: no socket descriptor"
  if ((limit > 1100)); then
    ((lowest >= 1024)) || fail "$name: the agent's socket is at $lowest, not 1024 and up"
  else
    ((lowest >= limit - 48)) || fail "$name: the agent's socket is at $lowest, not near the limit"
  fi
  touch "$TMP/$name.go"
  wait_for_file "$TMP/$name.go.done" 30
  grep -q '^host fds intact$' "$TMP/$name.log" || fail "$name: $(cat "$TMP/$name.log")"
  local before after
  before=$(agent_thread_ticks "$pid")
  sleep 2
  after=$(agent_thread_ticks "$pid")
  echo "agent thread: $((after - before)) ticks in 2 s"
  ((after - before < 15)) || fail "$name: the agent thread spins ($((after - before)) ticks in 2 s)"
  local i ok=0
  for ((i = 0; i < 50; i++)); do  # the listener is made again within a second
    ADDR=$(head -n1 "$TMP/$name.addr")
    if [[ $(curl -s --max-time 5 "http://$ADDR/healthz") == ok ]]; then ok=1 && break; fi
    sleep 0.1
  done
  ((ok)) || fail "$name: the debug server does not answer after the close-all"
  curl -sf --max-time 20 "http://$ADDR/debug/pprof/heap" -o /dev/null || fail "$name: no heap"
  local lines
  lines=$(grep -c 'closed descriptors of the agent' "$TMP/$name.log" || true)
  echo "notices: $lines"
  ((lines <= 1)) || fail "$name: the notice is repeated"
  if [[ $name == high ]]; then ((lines == 0)) || fail "high: the 3..1023 loop reached the agent"; fi
}

hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < 1024)); then
  echo "hard descriptor limit $hard: cannot set a soft limit of 1024"
  exit 77
fi
run_case low 1024 1024
run_case closefrom 1024 1024 closefrom
run_case dup2 1024 1024 dup2  # "the host dup2s /dev/null over 3..1023"
if [[ $hard == unlimited ]] || ((hard >= 4096)); then
  run_case high 4096 1024
else
  echo "skip the high case: hard limit $hard"
fi
echo PASS
