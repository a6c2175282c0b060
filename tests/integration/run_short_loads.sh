#!/usr/bin/env bash
# Issue 11's loads: small C++ services, each driven by a one-shot load of 4,000 sequential
# requests (one connection each, 0.5-3 s), `leakscope run --json` at default flags. Every leak is
# found with its kind and function (session map, detached threads, pipes, mmap, a background
# thread's history, a metric family), and the non-leaks (a bounded LRU, pure churn, batches freed
# every 300 requests) end as no-leak, not inconclusive. Three runs at a time, about 25 s each.
#
# Statistical: the heap cases are sampled estimates (16 KiB). Measured over 10 runs of the nine
# on this 2-core machine beside other work: every leak found and every non-leak no-leak in all
# of them (docs/analysis.md, "How often it is wrong"); the false-failure rate per run of this
# test is below 1 in 10 by that count, and the synthetic rows put each case's own rate below
# 1 in 1,000. Labelled statistical (tests/CMakeLists.txt): run alone, one retry at most.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need g++ python3
DIR=$SRC/tests/integration/short_loads
g++ -O2 -g -pthread -o "$WORK/svc" "$DIR/svc.cc"
g++ -O2 -g -o "$WORK/load" "$DIR/load.cc"

# one CASE: runs leakscope on the service in mode CASE; its report is $WORK/CASE/report.json.
one() {
  local case=$1 port_file=$WORK/$1.port port=0
  local -a extra=()
  if [[ $case == metrics ]]; then
    port=$(free_port)
    extra=(--metrics "http://127.0.0.1:$port/metrics")
  fi
  timeout 90 "$LEAKSCOPE" run --json --out "$WORK/$case" "${extra[@]}" \
    --load "$WORK/load \$(cat $port_file) 4000" -- "$WORK/svc" "$case" "$port_file" "$port" \
    >"$WORK/$case.stdout" 2>"$WORK/$case.stderr" || true
}

CASES=(${SHORT_CASES:-session threads pipes mmap history metrics lru churn batches})
running=0
for c in "${CASES[@]}"; do
  one "$c" &
  track $!
  if ((++running >= 3)); then
    wait -n || true
    ((running--)) || true
  fi
done
wait || true

declare -A EXPECT=(
  [session]="leak heap remember_session" [threads]="leak threads spawn_worker"
  [pipes]="leak fds open_channel" [mmap]="leak mmap map_buffer"
  [history]="leak heap record_history" [metrics]="leak metrics shortsvc_requests_total"
  [lru]="no-leak" [churn]="no-leak" [batches]="no-leak")
failed=0
for c in "${CASES[@]}"; do
  echo "$c: expect ${EXPECT[$c]}"
  if [[ ! -f $WORK/$c/report.json ]]; then
    echo "FAIL: $c: no report ($(tail -3 "$WORK/$c.stderr"))"
    failed=1
    continue
  fi
  # shellcheck disable=SC2086
  python3 "$DIR/check.py" "$WORK/$c/report.json" ${EXPECT[$c]} || { echo "FAIL: $c"; failed=1; }
done
exit $failed
