#!/usr/bin/env bash
# A hung file system does not take the debug server with it (issue 18, the window left after
# item 8): dump files are written by a thread of their own. A shim (tests/agent/stall_open.c)
# makes every open of a dump file hang until the test releases it, as a dead NFS mount would.
# While the first round hangs, the server must answer (/healthz, a heap profile, /metrics), the
# rounds that come due meanwhile are skipped and counted as failures, said once on stderr; once
# released, the hung round completes and dumps go on.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_named_sites
SHIM=$BUILD/libagent_stall_open.so

metric() { curl -s --max-time 10 "http://$ADDR/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }

mkdir "$TMP/dumps"
start_agent hung LD_PRELOAD="$SHIM:$AGENT" STALL_RELEASE="$TMP/release" \
  LEAKSCOPE_DUMP_DIR="$TMP/dumps" LEAKSCOPE_DUMP_INTERVAL=1 -- "$PROG" "$TMP/hung.ready"
wait_for_file "$TMP/hung.ready"
wait_for_file "$TMP/release.stalled"
echo "ok: the first dump hangs in open()"

# The server answers while the dump hangs, across several dump intervals (curl's --max-time is
# the hang guard: before the writer thread, the server itself hung in open()).
for i in 1 2 3; do
  curl -sf --max-time 5 "http://$ADDR/healthz" >/dev/null || fail "/healthz did not answer ($i)"
  curl -sf --max-time 5 -o "$TMP/heap.pb.gz" "http://$ADDR/debug/pprof/heap" ||
    fail "/debug/pprof/heap did not answer ($i)"
  sleep 1
done
echo "ok: the server answers while a dump hangs"
for ((i = 0; i < 100; i++)); do
  (($(metric leakscope_dump_failures_total) >= 4)) && break
  sleep 0.1
done
(($(metric leakscope_dump_failures_total) >= 4)) || fail "rounds due while hung were not counted"
expect "'still being written' lines" "$(grep -c 'still being written' "$TMP/hung.log")" 1

touch "$TMP/release"
wait_for_file "$TMP/dumps/heap.$PID.0001.pb.gz"
wait_for_file "$TMP/dumps/heap.$PID.0002.pb.gz"
echo "ok: the hung round completed and the next one was written"
echo PASS
