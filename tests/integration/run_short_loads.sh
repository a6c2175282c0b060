#!/usr/bin/env bash
# Issue 11's loads: small C++ services, each driven by a one-shot load of 4,000 sequential
# requests (one connection each, 0.2-1.5 s here), `leakscope run --json` at default flags. Every
# leak is found with its kind and function (session map, detached threads, pipes, mmap, a
# background thread's history, a metric family, 160 B per request beside 16 KiB of churn), and
# the non-leaks (a bounded LRU, pure churn, batches freed every 300 requests, a fragmenting ring)
# end as no-leak, not inconclusive. Four runs at a time, about 25 s each.
#
# Statistical: the heap cases are sampled estimates (16 KiB). Measured here (a 2-core machine
# shared with other builds): 3 runs of the nine first cases, 2 of slow and ring (and 1 of realloc
# and cycle), every case right in each; so few runs cannot put the false-failure rate per run
# below about 1 in 4 by count alone, but the synthetic rows of docs/analysis.md (the same shapes,
# over 1,000 seeds or more) put each case's own rate at 0 or 0.5% (the history's). Labelled statistical (tests/CMakeLists.txt):
# run alone, retries counted by scripts/test.
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

# SHORT_CASES="..." runs others (realloc and cycle are leaks too: append_log, make_pair_cycle).
read -ra CASES <<<"${SHORT_CASES:-session threads pipes mmap history metrics slow lru churn batches ring}"

running=0
for c in "${CASES[@]}"; do
  one "$c" &
  track $!
  if ((++running >= 4)); then
    wait -n || true
    ((running--)) || true
  fi
done
wait || true

declare -A EXPECT=(
  [session]="leak heap remember_session" [threads]="leak threads spawn_worker"
  [pipes]="leak fds open_channel" [mmap]="leak mmap map_buffer"
  [history]="leak heap record_history" [metrics]="leak metrics shortsvc_requests_total"
  [slow]="leak heap keep_crumb" [realloc]="leak heap append_log"
  [cycle]="leak heap make_pair_cycle"
  [lru]="no-leak" [churn]="no-leak" [batches]="no-leak" [ring]="no-leak")
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
