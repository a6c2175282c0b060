#!/usr/bin/env bash
# The agent's cost at the limit, side by side (issue 15; BENCHMARKS.md "The agent's cost at the
# limit"). One command, one markdown table:
#
#   bench/agent_cost.sh [BUILD_DIR] [PAIRS]        (default: build, 9)
#
# Program: bench/agent_cost_churn.cc (2 threads, sizes 16..2064 bytes, 50,000 live blocks,
# std::map/std::string churn; plain -O2 -g, no agent knowledge), ITERS iterations per thread
# (environment, default 1,000,000). Each row compares a setting with its baseline: in every
# round both run back to back (the order alternates round by round), and the row shows the
# median over PAIRS rounds of the paired ratios, setting / baseline, of whole-process wall time
# and of CPU time (user + sys, children included: heaptrack's interpreter counts). Rows are
# interleaved within a round, so drift of a shared machine hits every row alike.
#
# The 16-thread rows run 16 threads of ITERS/8 iterations (the same total work). The heaptrack
# row runs a tenth of the work (heaptrack records every allocation). redis rows: Debian's
# redis-server (on jemalloc: the agent sits in front of it) under redis-benchmark, loopback, a
# free port, SET and GET, 20 clients, pipeline 16, 64-byte values, REDIS_N requests per test
# (default 300,000); the ratio is throughput, setting / none (higher is better).
#
# Needs libjemalloc2 (with profiling, as Debian builds it), heaptrack, redis-server and
# redis-tools (scripts/setup installs them). ROWS (environment) picks rows by name, e.g.
# ROWS="default dormant run".
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
PAIRS=${2:-9}
ITERS=${ITERS:-1000000}
REDIS_N=${REDIS_N:-300000}
AGENT=$BUILD/libleakscope.so
PROG=$BUILD/agent_cost_churn
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
RUN_RATE=16384  # leakscope run's default --rate (cli/cmd_run.cc)
ROWS=${ROWS:-default dormant run run_budget jemalloc jemalloc_prof rate1_heaptrack t16_default t16_run redis}
TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
[[ -x $PROG && -f $AGENT ]] || { echo "build agent_cost_churn and leakscope_agent first" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# setting_cmd SETTING: the command prefix of a setting, into the array CMD.
setting_cmd() {
  case $1 in
    glibc) CMD=(env) ;;
    agent) CMD=(env LD_PRELOAD="$AGENT") ;;
    dormant) CMD=(env LD_PRELOAD="$AGENT" LEAKSCOPE_DORMANT=1) ;;
    # leakscope run: 16 KiB with the sample budget off (cli/cmd_run.cc)
    run) CMD=(env LD_PRELOAD="$AGENT" LEAKSCOPE_RATE="$RUN_RATE" LEAKSCOPE_MAX_SAMPLES_PER_SEC=0) ;;
    run_budget) CMD=(env LD_PRELOAD="$AGENT" LEAKSCOPE_RATE="$RUN_RATE") ;;
    rate1) CMD=(env LD_PRELOAD="$AGENT" LEAKSCOPE_RATE=1) ;;
    jemalloc) CMD=(env LD_PRELOAD="$JEMALLOC") ;;
    agent_jemalloc) CMD=(env LD_PRELOAD="$AGENT:$JEMALLOC") ;;
    jemalloc_prof) CMD=(env LD_PRELOAD="$JEMALLOC" "MALLOC_CONF=prof:true,lg_prof_sample:19") ;;
    heaptrack) CMD=(heaptrack -o "$TMP/ht") ;;
  esac
}

# timed SETTING ITERS THREADS: one run; prints "wall cpu" in seconds.
timed() {
  setting_cmd "$1"
  local t
  t=$( { TIMEFORMAT='%R %U %S'; time "${CMD[@]}" "$PROG" "$2" "$3" >/dev/null 2>&1; } 2>&1)
  rm -f "$TMP"/ht*
  awk '{printf "%.4f %.4f\n", $1, $2 + $3}' <<<"$t"
}

# Rows: name|label|setting|baseline|iterations|threads
ROW_DEFS=(
  "default|agent, default rate (512 KiB), vs glibc|agent|glibc|$ITERS|2"
  "dormant|agent, dormant, vs glibc|dormant|glibc|$ITERS|2"
  "run|agent at 16 KiB, no sample budget (leakscope run's), vs glibc|run|glibc|$ITERS|2"
  "run_budget|agent at 16 KiB with the default sample budget, vs glibc|run_budget|glibc|$ITERS|2"
  "jemalloc|agent in front of jemalloc, default rate, vs jemalloc|agent_jemalloc|jemalloc|$ITERS|2"
  "jemalloc_prof|jemalloc's sampler (prof:true,lg_prof_sample:19) vs jemalloc|jemalloc_prof|jemalloc|$ITERS|2"
  "rate1_heaptrack|agent at rate 1 vs heaptrack (a tenth of the work)|rate1|heaptrack|$((ITERS / 10))|2"
  "t16_default|16 threads: agent, default rate, vs glibc|agent|glibc|$((ITERS / 8))|16"
  "t16_run|16 threads: agent at 16 KiB, vs glibc|run|glibc|$((ITERS / 8))|16"
)

selected() { [[ " $ROWS " == *" $1 "* ]]; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# redis_run SETTING: starts redis-server under SETTING, loads it, prints "set_rps get_rps".
redis_run() {
  local port env_args=()
  port=$(free_port)
  case $1 in
    agent) env_args=(LD_PRELOAD="$AGENT") ;;
    run) env_args=(LD_PRELOAD="$AGENT" LEAKSCOPE_RATE="$RUN_RATE" LEAKSCOPE_MAX_SAMPLES_PER_SEC=0) ;;
  esac
  env "${env_args[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no >"$TMP/redis.log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 200; i++)); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  local out
  out=$(timeout 300 redis-benchmark -p "$port" -n "$REDIS_N" -c 20 -P 16 -t set,get -r 100000 \
    -d 64 --csv 2>/dev/null)
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  awk -F'","' '/^"SET"/ {s=$2} /^"GET"/ {g=$2} END {print s, g}' <<<"$out"
}

for ((round = 1; round <= PAIRS; round++)); do
  for def in "${ROW_DEFS[@]}"; do
    IFS='|' read -r name _ setting base iters threads <<<"$def"
    selected "$name" || continue
    if ((round % 2)); then
      b=$(timed "$base" "$iters" "$threads")
      s=$(timed "$setting" "$iters" "$threads")
    else
      s=$(timed "$setting" "$iters" "$threads")
      b=$(timed "$base" "$iters" "$threads")
    fi
    read -r bw bc <<<"$b"
    read -r sw sc <<<"$s"
    awk -v sw="$sw" -v bw="$bw" -v sc="$sc" -v bc="$bc" \
      'BEGIN {printf "%.4f %.4f %.4f\n", sw / bw, sc / bc, bw}' >>"$TMP/$name"
  done
  if selected redis; then
    read -r ns ng <<<"$(redis_run none)"
    read -r as ag <<<"$(redis_run agent)"
    read -r rs rg <<<"$(redis_run run)"
    awk -v a="$as" -v b="$ns" -v c="$ag" -v d="$ng" 'BEGIN {print a / b, c / d, b}' >>"$TMP/redis_agent"
    awk -v a="$rs" -v b="$ns" -v c="$rg" -v d="$ng" 'BEGIN {print a / b, c / d, b}' >>"$TMP/redis_run"
  fi
  echo "round $round of $PAIRS done" >&2
done

echo "agent_cost: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $PAIRS interleaved pairs, $ITERS iterations per thread"
echo
echo "| setting | wall ratio | CPU ratio | baseline wall s |"
echo "| --- | --- | --- | --- |"
for def in "${ROW_DEFS[@]}"; do
  IFS='|' read -r name label _ <<<"$def"
  [[ -s $TMP/$name ]] || continue
  printf '| %s | %.3f | %.3f | %.2f |\n' "$label" "$(awk '{print $1}' "$TMP/$name" | median)" \
    "$(awk '{print $2}' "$TMP/$name" | median)" "$(awk '{print $3}' "$TMP/$name" | median)"
done
if [[ -s $TMP/redis_agent ]]; then
  echo
  echo "| redis-server under redis-benchmark ($REDIS_N requests, -c 20 -P 16) | SET throughput ratio | GET throughput ratio | SET req/s without agent |"
  echo "| --- | --- | --- | --- |"
  for r in agent:"agent, default rate, vs none" run:"agent at 16 KiB (run's default), vs none"; do
    f=$TMP/redis_${r%%:*}
    printf '| %s | %.3f | %.3f | %.0f |\n' "${r#*:}" "$(awk '{print $1}' "$f" | median)" \
      "$(awk '{print $2}' "$f" | median)" "$(awk '{print $3}' "$f" | median)"
  done
fi
