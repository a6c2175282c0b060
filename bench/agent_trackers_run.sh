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
ratios_oc="" ratios_nc="" ratios_ec=""
for ((r = 0; r < RUNS; r++)); do
  a=$(openclose X=1)
  b=$(openclose LD_PRELOAD="$AGENT")
  c=$(openclose LD_PRELOAD="$AGENT" LEAKSCOPE_FD_STACK_CACHE=0)
  d=$(echo_run X=1)
  e=$(echo_run LD_PRELOAD="$AGENT")
  oc[none]+="$a " oc[agent]+="$b " oc[nocache]+="$c " ec[none]+="$d " ec[agent]+="$e "
  # Each round's ratio pairs runs taken seconds apart: on a shared machine whose load drifts,
  # the median of paired ratios is steadier than the ratio of medians (both are printed).
  ratios_oc+="$(bc -l <<<"$b / $a") " ratios_nc+="$(bc -l <<<"$c / $a") "
  ratios_ec+="$(bc -l <<<"$e / $d") "
done

m() { tr ' ' '\n' <<<"$1" | grep . | median; }
oc_none=$(m "${oc[none]}"); oc_agent=$(m "${oc[agent]}"); oc_nocache=$(m "${oc[nocache]}")
ec_none=$(m "${ec[none]}"); ec_agent=$(m "${ec[agent]}")
echo "runs (RUNS=$RUNS), open/close ns: none ${oc[none]}| agent ${oc[agent]}| no fd cache ${oc[nocache]}"
echo "runs, echo req/s: none ${ec[none]}| agent ${ec[agent]}"
echo "| benchmark | no agent (median) | agent (median) | ratio of medians | median of paired ratios |"
echo "|---|---|---|---|---|"
printf '| open/close loop, time | %.0f ns | %.0f ns | %.2fx | %.2fx |\n' "$oc_none" "$oc_agent" \
  "$(bc -l <<<"$oc_agent / $oc_none")" "$(m "$ratios_oc")"
printf '| open/close loop, no fd stack cache, time | %.0f ns | %.0f ns | %.2fx | %.2fx |\n' \
  "$oc_none" "$oc_nocache" "$(bc -l <<<"$oc_nocache / $oc_none")" "$(m "$ratios_nc")"
printf '| loopback echo server, throughput | %.0f req/s | %.0f req/s | %.3fx | %.3fx |\n' \
  "$ec_none" "$ec_agent" "$(bc -l <<<"$ec_agent / $ec_none")" "$(m "$ratios_ec")"
