#!/usr/bin/env bash
# A host out of descriptors (issue 18, item 4): with every descriptor taken, a pending client
# once made accept4 fail with EMFILE on every turn of the agent's level-triggered poll (a core at
# 100%, no answer). Now the agent serves clients with its reserve descriptor, pauses the
# listener between tries, and /healthz and /metrics say the process is out of descriptors.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_host_fds

start_agent ex --fd-limit 256 -- "$PROG" exhaust "$TMP/ex.ready"
pid=$PID
wait_for_file "$TMP/ex.ready"
cat "$TMP/ex.log"

echo "== idle clients wait while the host holds every descriptor: no spinning"
for i in 1 2 3; do
  (exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR##*:}" && sleep 8) 2>/dev/null &
  PIDS+=($!)
done
sleep 0.3
before=$(agent_thread_ticks "$pid")
sleep 2
after=$(agent_thread_ticks "$pid")
echo "agent thread: $((after - before)) ticks in 2 s"
((after - before < 15)) || fail "the agent thread spins at EMFILE ($((after - before)) ticks in 2 s)"

echo "== /healthz and /metrics answer, and say so"
body=$(curl -s --max-time 20 "http://$ADDR/healthz") || fail "no /healthz answer at EMFILE"
echo "$body"
[[ $(head -n1 <<<"$body") == ok ]] || fail "healthz: $body"
grep -q 'out of file descriptors' <<<"$body" || fail "healthz does not say it: $body"
curl -s --max-time 20 "http://$ADDR/metrics" >"$TMP/metrics.txt" || fail "no /metrics at EMFILE"
grep -E '^leakscope_(fds_exhausted|accept_emfile_total) ' "$TMP/metrics.txt"
grep -qx 'leakscope_fds_exhausted 1' "$TMP/metrics.txt" || fail "leakscope_fds_exhausted is not 1"
n=$(awk '$1 == "leakscope_accept_emfile_total" { print $2 }' "$TMP/metrics.txt")
((n >= 1)) || fail "leakscope_accept_emfile_total is $n"
kill -0 "$pid" || fail "host died"
echo PASS
