#!/usr/bin/env bash
# Overhead of the thread and descriptor trackers, side by side in one run, as ratios to no agent
# (BENCHMARKS.md, "The agent: threads and descriptors overhead").
#
#   bench/agent_trackers_run.sh BUILD_DIR [RUNS]      (RUNS >= 5, default 7)
#
# Configurations alternate run by run (A B C A B C ...) so that drift on a shared machine hits
# them alike; each figure is the median of RUNS. The agent runs with its defaults (heap sampling
# at 512 KiB, trackers on, no debug server); "no fd cache" sets LEAKSCOPE_FD_STACK_CACHE=0, which
# unwinds on every descriptor creation.
set -euo pipefail
BUILD=${1:?usage: agent_trackers_run.sh BUILD_DIR [RUNS]}
RUNS=${2:-7}
AGENT=$BUILD/libleakscope.so
OPENCLOSE_ITERATIONS=${OPENCLOSE_ITERATIONS:-300000}
ECHO_ARGS=${ECHO_ARGS:-"2 100 300"}  # client threads, connections per thread, requests per conn
TMP=$(mktemp -d)
SERVER=""
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

openclose() {  # openclose ENV... : ns per open+close
  env "$@" "$BUILD/agent_trackers_openclose" "$OPENCLOSE_ITERATIONS" | awk '{ print $2 }'
}

echo_run() {  # echo_run ENV... : requests per second of a server started with ENV
  rm -f "$TMP/port"
  env "$@" "$BUILD/agent_trackers_echo" server "$TMP/port" &
  SERVER=$!
  for ((i = 0; i < 100; i++)); do [[ -s $TMP/port ]] && break; sleep 0.05; done
  # shellcheck disable=SC2086
  "$BUILD/agent_trackers_echo" client "$(cat "$TMP/port")" $ECHO_ARGS | awk '{ print $2 }'
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}

declare -A oc ec
for ((r = 0; r < RUNS; r++)); do
  oc[none]+="$(openclose X=1) "
  oc[agent]+="$(openclose LD_PRELOAD="$AGENT") "
  oc[nocache]+="$(openclose LD_PRELOAD="$AGENT" LEAKSCOPE_FD_STACK_CACHE=0) "
  ec[none]+="$(echo_run X=1) "
  ec[agent]+="$(echo_run LD_PRELOAD="$AGENT") "
done

m() { tr ' ' '\n' <<<"$1" | grep . | median; }
oc_none=$(m "${oc[none]}"); oc_agent=$(m "${oc[agent]}"); oc_nocache=$(m "${oc[nocache]}")
ec_none=$(m "${ec[none]}"); ec_agent=$(m "${ec[agent]}")
echo "open/close loop, ns per open+close (median of $RUNS; runs: none ${oc[none]}| agent ${oc[agent]}| no fd cache ${oc[nocache]})"
printf '| open/close loop | %.0f ns | %.0f ns | %.2fx time |\n' "$oc_none" "$oc_agent" "$(bc -l <<<"$oc_agent / $oc_none")"
printf '| open/close loop, no fd stack cache | %.0f ns | %.0f ns | %.2fx time |\n' "$oc_none" "$oc_nocache" "$(bc -l <<<"$oc_nocache / $oc_none")"
echo "echo server, requests/s (median of $RUNS; runs: none ${ec[none]}| agent ${ec[agent]})"
printf '| loopback echo server | %.0f req/s | %.0f req/s | %.3fx throughput |\n' "$ec_none" "$ec_agent" "$(bc -l <<<"$ec_agent / $ec_none")"
