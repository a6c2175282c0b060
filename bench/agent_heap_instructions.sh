#!/usr/bin/env bash
# The agent's cost on the malloc/free path in instructions, counted by callgrind: exact and
# repeatable whatever else the machine is doing (wall-clock ratios on a shared 2-core machine
# swing by ±20%; see BENCHMARKS.md). Runs bench/agent_heap_malloc_bench.cc (2 threads, each
# replacing a random block of a 4096-block pool per iteration: one free and one malloc or new)
# under valgrind --tool=callgrind with no agent, the agent at its default rate, the agent dormant
# and the agent at rate 1, and prints total instructions and the agent's extra instructions per
# iteration (one free + one allocation), and the same above the floor: an interposer that only
# forwards (bench/agent_floor_interposer.cc), the limit an interposing agent can reach; what the
# agent adds beyond it is the countdown on allocation and the sample-region compare on free.
# Cycles are not instructions: a cache miss costs more
# than a dozen adds; this table says what the hooks execute, the wall-clock tables what it costs.
#
#   bench/agent_heap_instructions.sh [BUILD_DIR] [ITERATIONS_PER_THREAD] [OTHER_AGENT.so ...]
#      defaults: build 200000. Each OTHER_AGENT (e.g. an older build) gets rows of its own.
#   PROGRAM=agent_cost_churn (environment): bench/agent_cost_churn.cc instead (issue 15's
#      held-out-style churn; an iteration there is about 3.5 allocations and frees, so the last
#      column is per iteration, not per pair). A row at run's rate (16 KiB) has the sample budget
#      off: under valgrind a thread's CPU time runs ~50x slow, so the budget would barely engage
#      and its row would say nothing of a native run (bench/agent_cost.sh measures that).
#
# LEAKSCOPE_INHERIT=1 is set because valgrind's launcher is itself a dynamic program that execs
# the tool: without it the agent, loaded into the launcher, removes itself from LD_PRELOAD.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
iters=${2:-200000}
shift $(($# < 2 ? $# : 2))
bench=$build/${PROGRAM:-agent_heap_malloc_bench}
args=("$iters")
[[ ${PROGRAM:-} == agent_cost_churn ]] && args=("$iters" 2)
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
floor_so=$build/libagent_floor_interposer.so
[[ -x $bench ]] || { echo "$bench is not built" >&2; exit 1; }
[[ -e $floor_so ]] || { echo "$floor_so is not built" >&2; exit 1; }

count() {  # count ENV...: instructions of one run
  env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" "${args[@]}" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

none=$(count X=1)
floor=$(count LD_PRELOAD="$floor_so")
echo "agent_heap_instructions: $(date -u +%FT%RZ), $(basename "$bench"), $iters iterations per thread, 2 threads"
echo
echo "| setting | instructions | ratio to none | per free + allocation | above the floor |"
echo "| --- | --- | --- | --- | --- |"
row() {  # row NAME INSTRUCTIONS
  awk -v n="$1" -v c="$2" -v base="$none" -v fl="$floor" -v it="$iters" \
    'BEGIN { printf "| %s | %.0f | %.3f | %.1f | %.1f |\n", n, c, c / base, (c - base) / (2 * it),
             (c - fl) / (2 * it) }'
}
row none "$none"
row "floor: an interposer that only forwards" "$floor"
for agent in "$build/libleakscope.so" "$@"; do
  label=""
  [[ $agent == "$build/libleakscope.so" ]] || label=" ($agent)"
  a=(LD_PRELOAD="$agent" LEAKSCOPE_INHERIT=1)
  row "agent, default rate$label" "$(count "${a[@]}")"
  row "agent, dormant$label" "$(count "${a[@]}" LEAKSCOPE_DORMANT=1)"
  row "agent, 16 KiB, no budget$label" "$(count "${a[@]}" LEAKSCOPE_RATE=16384 LEAKSCOPE_MAX_SAMPLES_PER_SEC=0)"
  row "agent, rate 1$label" "$(count "${a[@]}" LEAKSCOPE_RATE=1)"
done
