#!/usr/bin/env bash
# LEAKSCOPE_TOGGLE_SIGNAL / LEAKSCOPE_DUMP_SIGNAL never take a signal the program already
# handles: a library preloaded after the agent (so its constructor runs first) installs a SIGUSR1
# handler; with LEAKSCOPE_TOGGLE_SIGNAL=USR1 the agent says so once and leaves it, and SIGUSR1
# then runs the host's handler and leaves sampling on. In the other load order the host's
# handler replaces the agent's, as it may. A free signal, or one the program ignores (SIG_IGN,
# as under nohup), is taken: SIGUSR1 switches sampling off. Sampling is read from /metrics.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_named_sites
MODULE=$BUILD/libagent_signal_module.so

dormant() { fetch /metrics | awk '$1 == "leakscope_sampling_dormant" { print $2 }'; }

# wait_dormant WANTED: polls /metrics (bounded) until leakscope_sampling_dormant is WANTED.
wait_dormant() {
  local i got
  for ((i = 0; i < 100; i++)); do
    got=$(dormant)
    [[ $got == "$1" ]] && { echo "ok: dormant = $got"; return 0; }
    sleep 0.05
  done
  fail "leakscope_sampling_dormant: got $got, want $1"
}

n=0
for order in "$AGENT:$MODULE" "$MODULE:$AGENT"; do
  echo "== a host handler for SIGUSR1, LD_PRELOAD=$order"
  name=host$((++n))
  start_agent "$name" LD_PRELOAD="$order" LEAKSCOPE_TOGGLE_SIGNAL=USR1 -- "$PROG" "$TMP/$name.ready"
  wait_for_file "$TMP/$name.ready"
  kill -USR1 "$PID"
  wait_for_line "$TMP/$name.log" '^host handler ran$'
  expect "dormant after SIGUSR1 ran the host's handler" "$(dormant)" 0
  skipped=$(grep -c 'already has a handler.*LEAKSCOPE_TOGGLE_SIGNAL is ignored' "$TMP/$name.log" || true)
  if [[ $order == "$AGENT:$MODULE" ]]; then
    # The loader runs the constructors of later preloads first: the host's handler was there.
    expect "lines saying the signal is not taken" "$skipped" 1
  fi
done

echo "== a free signal is taken"
start_agent free LEAKSCOPE_TOGGLE_SIGNAL=USR1 -- "$PROG" "$TMP/free.ready"
wait_for_file "$TMP/free.ready"
kill -USR1 "$PID"
wait_dormant 1

echo "== an ignored signal (SIG_IGN) is taken"
(
  trap '' USR1  # inherited by the program as SIG_IGN
  start_agent ignored LEAKSCOPE_TOGGLE_SIGNAL=USR1 -- "$PROG" "$TMP/ignored.ready"
  echo "$PID $ADDR" >"$TMP/ignored.pid"
)
read -r PID ADDR <"$TMP/ignored.pid"
PIDS+=("$PID")
wait_for_file "$TMP/ignored.ready"
kill -USR1 "$PID"
wait_dormant 1
echo PASS
