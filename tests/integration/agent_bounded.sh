#!/usr/bin/env bash
# The agent's own memory is bounded: fed 2^20 distinct stacks at rate 1 (tests/agent/
# many_stacks.cc) with LEAKSCOPE_MAX_MEMORY=16M, the process's RSS grows by at most the budget
# plus a fixed allowance (the static libstdc++ and the server), the stack table stops at its
# capacity, and what did not fit is counted in the profile (a comment, and the
# "[leakscope: overflow]" frame, which go tool pprof shows), and /metrics counts the same.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_many_stacks
BUDGET_MB=16
ALLOWANCE_MB=12

timeout 120 "$PROG" "$TMP/plain.rss" once
start_agent many LEAKSCOPE_RATE=1 LEAKSCOPE_MAX_MEMORY=${BUDGET_MB}M -- "$PROG" "$TMP/agent.rss"
wait_for_file "$TMP/agent.rss" 120
plain=$(cat "$TMP/plain.rss")
agent=$(cat "$TMP/agent.rss")
extra_mb=$(((agent - plain) / 1024))
echo "RSS without agent ${plain} kB, with agent ${agent} kB: +${extra_mb} MiB (budget ${BUDGET_MB} MiB)"
((extra_mb <= BUDGET_MB + ALLOWANCE_MB)) || fail "agent memory not bounded: +${extra_mb} MiB"

curl -sf --max-time 120 "http://$ADDR/debug/pprof/heap?debug=1" >"$TMP/heap.txt" || fail "heap"
read -r n cap < <(sed -nE 's/^# leakscope: rate=1 .*stacks=([0-9]+)\/([0-9]+) .*/\1 \2/p' "$TMP/heap.txt")
((n > 1000 && n <= cap)) || fail "stack table: $n of $cap entries"
grep -E '^# leakscope: overflow: [1-9][0-9]* stacks did not fit' "$TMP/heap.txt" || fail "no overflow"
# /metrics says the same, without building a profile.
metrics=$(curl -sf --max-time 60 "http://$ADDR/metrics") || fail "GET /metrics"
metric() { awk -v n="$1" '$1 == n { print $2 }' <<<"$metrics"; }
entries=$(metric 'leakscope_table_entries{table="stacks"}')
((entries >= n && entries <= cap)) || fail "/metrics: $entries stacks, the profile $n of $cap"
expect "/metrics: stack table capacity" "$(metric 'leakscope_table_capacity{table="stacks"}')" "$cap"
overflow=$(metric 'leakscope_table_overflow_total{table="stacks"}')
((overflow > 0)) || fail "/metrics: no stack table overflow counted"
expect "/metrics: memory limit" "$(metric leakscope_agent_memory_limit_bytes)" $((BUDGET_MB << 20))
if command -v go >/dev/null; then
  timeout 120 go tool pprof -sample_index=alloc_objects -top "http://$ADDR/debug/pprof/heap" \
    >"$TMP/top" 2>&1 || { cat "$TMP/top"; fail "go tool pprof"; }
  grep -q '\[leakscope: overflow\]' "$TMP/top" || { cat "$TMP/top"; fail "no overflow frame"; }
fi
echo PASS
