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

for ((run = 1; run <= RUNS; run++)); do
  rate=$((run % 2 == 0 ? 1 : 524288))
  rc=0
  timeout 60 env LD_PRELOAD="$AGENT" LEAKSCOPE_RATE=$rate LEAKSCOPE_ADDR=127.0.0.1:0 \
    "$PROG" "$MODULE" 300 >"$TMP/out" 2>&1 || rc=$?
  if ((rc != 0)); then
    cat "$TMP/out"
    ((rc == 124)) && fail "run $run (rate $rate): deadlock (timed out)"
    fail "run $run (rate $rate): exit status $rc"
  fi
done
echo "PASS ($RUNS runs)"
