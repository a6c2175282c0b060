#!/usr/bin/env bash
# The agent in hosts that do unusual things (tests/agent/robustness.cc): fork children keep
# working, exec'd children run without the agent unless LEAKSCOPE_INHERIT=1, signal handlers
# allocate, threads come and go, dlsym/dlopen failures (libdl's calloc) under sampling, unwind
# info registered as a JIT does (libgcc's object_mutex, issue 18). Each mode runs at rate 1
# (every allocation in the slow path) and at the default rate, under a timeout (the hang guard).
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_robustness

for rate in 1 524288; do
  for mode in fork signal threads dlerror jit; do
    echo "== $mode at rate $rate"
    timeout 120 env LD_PRELOAD="$AGENT" LEAKSCOPE_RATE=$rate "$PROG" "$mode" ||
      fail "$mode at rate $rate: status $?"
  done
done

echo "== registered unwind info: threads unwind, throw and allocate while ?debug=2 captures them"
start_agent jit LEAKSCOPE_RATE=1 -- timeout 150 "$PROG" jitthreads "$TMP/jit.stop"
for round in 1 2 3 4 5 6; do
  page=$(curl -sf --max-time 30 "http://$ADDR/debug/pprof/threads?debug=2") ||
    fail "?debug=2 round $round did not answer"
  [[ $page == threads:* ]] || fail "?debug=2 round $round: ${page:0:200}"
done
touch "$TMP/jit.stop"
for ((i = 0; i < 600 && $(kill -0 "$PID" 2>/dev/null && echo 1 || echo 0); i++)); do sleep 0.1; done
kill -0 "$PID" 2>/dev/null && fail "jitthreads hangs after its stop file: $(tail -5 "$TMP/jit.log")"
wait "$PID" || fail "jitthreads: status $? ($(tail -5 "$TMP/jit.log"))"
grep -q "^backtrace done after" "$TMP/jit.log" || fail "jitthreads: $(tail -5 "$TMP/jit.log")"
grep "^backtrace done" "$TMP/jit.log"
grep -c "partial: " <<<"$page" || true

echo "== allocations in another library's constructor, before and after the agent's"
for order in "$AGENT:$BUILD/libagent_early_module.so" "$BUILD/libagent_early_module.so:$AGENT"; do
  out=$(env LD_PRELOAD="$order" LEAKSCOPE_RATE=1 "$PROG" threads 2>&1) || fail "early ($order): $out"
  [[ $out == "early allocations ok" ]] || fail "early ($order): $out"
done

echo "== exec'd children do not inherit the agent"
out=$(env LD_PRELOAD="$AGENT" "$PROG" exec)
[[ $out == "child LD_PRELOAD=[]" ]] || fail "child saw: $out"
out=$(env LD_PRELOAD="/lib/x86_64-linux-gnu/libz.so.1:$AGENT" "$PROG" exec)
[[ $out == "child LD_PRELOAD=[/lib/x86_64-linux-gnu/libz.so.1]" ]] || fail "others kept? $out"
out=$(env LD_PRELOAD="$AGENT" LEAKSCOPE_INHERIT=1 "$PROG" exec)
[[ $out == "child LD_PRELOAD=[$AGENT]" ]] || fail "LEAKSCOPE_INHERIT=1: child saw: $out"

echo "== the fork child does not serve (nor hold) the parent's port"
start_agent forker -- "$PROG" forkhold "$TMP/child.pid"
wait_for_file "$TMP/child.pid"
child=$(cat "$TMP/child.pid")
PIDS+=("$child")
curl -sf --max-time 5 "http://$ADDR/healthz" >/dev/null || fail "parent does not serve"
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
kill -0 "$child" || fail "child died with the parent"
rc=0
curl -s --max-time 5 "http://$ADDR/healthz" >/dev/null || rc=$?
((rc == 7)) || fail "the parent's port is still open in the fork child (curl status $rc, 7 = refused)"
echo PASS
