#!/usr/bin/env bash
# Stress: tests/agent/stress_mix.cc (32 allocating threads, fork, dlopen/dlclose, short-lived
# threads, exit() under load) under the agent at rate 1 (every allocation sampled, unwound and
# interned) and at the default rate. No crash and no deadlock: every run must exit 0 within its
# timeout. CI runs 10 runs; `agent_stress.sh --runs 200` is the long version.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
RUNS=10
[[ ${1:-} == --runs ]] && RUNS=$2
PROG=$BUILD/agent_stress_mix
MODULE=$BUILD/libagent_dl_module.so

# On a timeout, every thread's stack goes to the log (gdb, when installed) before the kill.
dump_stacks() {
  command -v gdb >/dev/null || return 0
  local p
  for p in $1 $(pgrep -P "$1" || true); do
    echo "--- stacks of $p"
    timeout 60 gdb -p "$p" -batch -ex 'thread apply all bt' 2>&1 | grep -E '^(#|Thread)' || true
  done
}

for ((run = 1; run <= RUNS; run++)); do
  rate=$((run % 2 == 0 ? 1 : 524288))
  env LD_PRELOAD="$AGENT" LEAKSCOPE_RATE=$rate LEAKSCOPE_ADDR=127.0.0.1:0 \
    "$PROG" "$MODULE" 300 >"$TMP/out" 2>&1 &
  pid=$!
  for ((t = 0; t < 1200 && $(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0); t++)); do
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    dump_stacks "$pid" >>"$TMP/out"
    pkill -9 -P "$pid" || true
    kill -9 "$pid" || true
    wait "$pid" || true
    cat "$TMP/out"
    fail "run $run (rate $rate): deadlock (still running after 60 s)"
  fi
  rc=0
  wait "$pid" || rc=$?
  if ((rc != 0)); then
    cat "$TMP/out"
    fail "run $run (rate $rate): exit status $rc"
  fi
  grep -q 'cannot be preloaded' "$TMP/out" && fail "run $run: the agent was not loaded"
done
echo "PASS ($RUNS runs)"
