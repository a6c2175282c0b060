#!/usr/bin/env bash
# Overhead of the thread and descriptor trackers, side by side in one run, as ratios to no agent
# (BENCHMARKS.md, "The agent: threads and descriptors overhead").
#
#   bench/agent_trackers_run.sh BUILD_DIR [RUNS]      (RUNS >= 5, default 7)
#
# Configurations alternate run by run (A B C A B C ...) so that drift on a shared machine hits
# them alike; each figure is the median of RUNS, and each ratio is given both as the ratio of the
# medians and as the median of the per-round paired ratios. The agent runs with its defaults (heap sampling
# at 512 KiB, trackers on, no debug server); "no fd cache" sets LEAKSCOPE_FD_STACK_CACHE=0, which
# unwinds on every descriptor creation.
set -euo pipefail
BUILD=${1:?usage: agent_trackers_run.sh BUILD_DIR [RUNS]}
RUNS=${2:-7}
AGENT=$BUILD/libleakscope.so
OPENCLOSE_ITERATIONS=${OPENCLOSE_ITERATIONS:-300000}
ECHO_ARGS=${ECHO_ARGS:-"2 100 500"}  # client threads, connections per thread, requests per conn
ONLY=${ONLY:-}                        # "openclose" or "echo": run one benchmark only
TMP=$(mktemp -d)
SERVER=""
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

openclose() {  # openclose ENV... : "WALL_NS CPU_NS" per open+close
  env "$@" "$BUILD/agent_trackers_openclose" "$OPENCLOSE_ITERATIONS" | awk '{ print $2, $3 }'
}

echo_run() {  # echo_run ENV... : "REQ_PER_S SERVER_CPU_US_PER_REQUEST" for a server with ENV
  rm -f "$TMP/port"
  env "$@" "$BUILD/agent_trackers_echo" server "$TMP/port" &
  SERVER=$!
  for ((i = 0; i < 100; i++)); do [[ -s $TMP/port ]] && break; sleep 0.05; done
  local rps requests ticks hz
  # shellcheck disable=SC2086
  rps=$("$BUILD/agent_trackers_echo" client "$(cat "$TMP/port")" $ECHO_ARGS | awk '{ print $2 }')
  requests=$(awk '{ print $1 * $2 * $3 }' <<<"$ECHO_ARGS")
  ticks=$(awk '{ print $14 + $15 }' "/proc/$SERVER/stat")  # utime + stime, clock ticks
  hz=$(getconf CLK_TCK)
  echo "$rps $(bc -l <<<"$ticks * 1000000 / $hz / $requests")"
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}

declare -A col
ratios=()
add() { col[$1]+="$2 "; }
for ((r = 0; r < RUNS; r++)); do
  a_wall=1 a_cpu=1 b_wall=1 b_cpu=1 c_wall=1 c_cpu=1 d_rps=1 d_cpu=1 e_rps=1 e_cpu=1
  if [[ $ONLY != echo ]]; then
    read -r a_wall a_cpu <<<"$(openclose X=1)"
    read -r b_wall b_cpu <<<"$(openclose LD_PRELOAD="$AGENT")"
    read -r c_wall c_cpu <<<"$(openclose LD_PRELOAD="$AGENT" LEAKSCOPE_FD_STACK_CACHE=0)"
  fi
  if [[ $ONLY != openclose ]]; then
    read -r d_rps d_cpu <<<"$(echo_run X=1)"
    read -r e_rps e_cpu <<<"$(echo_run LD_PRELOAD="$AGENT")"
  fi
  add oc_wall_none "$a_wall"; add oc_wall_agent "$b_wall"; add oc_wall_nocache "$c_wall"
  add oc_cpu_none "$a_cpu"; add oc_cpu_agent "$b_cpu"; add oc_cpu_nocache "$c_cpu"
  add ec_rps_none "$d_rps"; add ec_rps_agent "$e_rps"
  add ec_cpu_none "$d_cpu"; add ec_cpu_agent "$e_cpu"
  # Each round's ratio pairs runs taken seconds apart: on a shared machine whose load drifts,
  # the median of paired ratios is steadier than the ratio of medians (both are printed).
  add r_oc_wall "$(bc -l <<<"$b_wall / $a_wall")"; add r_oc_cpu "$(bc -l <<<"$b_cpu / $a_cpu")"
  add r_nc_wall "$(bc -l <<<"$c_wall / $a_wall")"; add r_nc_cpu "$(bc -l <<<"$c_cpu / $a_cpu")"
  add r_ec_rps "$(bc -l <<<"$e_rps / $d_rps")"; add r_ec_cpu "$(bc -l <<<"$e_cpu / $d_cpu")"
done

m() { tr ' ' '\n' <<<"${col[$1]}" | grep . | median; }
for k in oc_wall_none oc_wall_agent oc_wall_nocache oc_cpu_none oc_cpu_agent oc_cpu_nocache \
  ec_rps_none ec_rps_agent ec_cpu_none ec_cpu_agent; do
  echo "runs $k: ${col[$k]}"
done
row() {  # row LABEL UNIT BASE_KEY AGENT_KEY PAIRED_KEY FORMAT
  local base agent
  base=$(m "$3")
  agent=$(m "$4")
  printf "| %s | %.${6}f %s | %.${6}f %s | %.3fx | %.3fx |\n" "$1" "$base" "$2" "$agent" "$2" \
    "$(bc -l <<<"$agent / $base")" "$(m "$5")"
}
echo
echo "| benchmark (median of $RUNS) | no agent | agent | ratio of medians | median of paired ratios |"
echo "|---|---|---|---|---|"
if [[ $ONLY != echo ]]; then
  row "open/close loop, CPU time per open+close" ns oc_cpu_none oc_cpu_agent r_oc_cpu 0
  row "open/close loop, wall time per open+close" ns oc_wall_none oc_wall_agent r_oc_wall 0
  row "open/close loop, fd stack cache off, CPU time" ns oc_cpu_none oc_cpu_nocache r_nc_cpu 0
  row "open/close loop, fd stack cache off, wall time" ns oc_wall_none oc_wall_nocache r_nc_wall 0
fi
if [[ $ONLY != openclose ]]; then
  row "echo server, throughput" "req/s" ec_rps_none ec_rps_agent r_ec_rps 0
  row "echo server, server CPU per request" "µs" ec_cpu_none ec_cpu_agent r_ec_cpu 2
fi
