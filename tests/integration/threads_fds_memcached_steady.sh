#!/usr/bin/env bash
# A real threaded server under real load shows no growth in either profile: memcached (its
# worker and maintenance threads, libevent's descriptors) under the agent, driven by a bounded
# loader with 8 persistent connections. The threads and fds profiles taken after warm-up and at
# the end of the load are identical, site for site (and the 8 connections are visible in both);
# once the loader disconnects, the descriptor count returns to its idle value.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/trackers/lib.sh"
command -v memcached >/dev/null || { echo "SKIP: memcached is not installed"; exit 77; }
CONNECTIONS=8
WARM=${LEAKSCOPE_TEST_WARM:-300}
REQUESTS=${LEAKSCOPE_TEST_REQUESTS:-3000}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_agent memcached memcached -u "$(id -un)" -l 127.0.0.1 -p "$port" -U 0 -t 4 -m 32 -c 256
for ((i = 0; i < 100; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

# stacks PAGE: the "N @ pcs" lines of a debug=1 page, sorted (sites and their counts).
stacks() { grep -E '^[0-9]+ @ ' <<<"$1" | sort; }
total() { awk 'NR == 1 { print $NF }' <<<"$1"; }

idle_fds=$(fetch "/debug/pprof/fds?debug=1")
idle_threads=$(fetch "/debug/pprof/threads?debug=1")
[[ $(total "$idle_threads") -ge 5 ]] || fail "memcached has only $(total "$idle_threads") threads"

"$BUILD/memcache_loader" "$port" "$CONNECTIONS" "$WARM" "$REQUESTS" 3000 "$TMP/load" \
  >"$TMP/loader.log" 2>&1 &
PIDS+=("$!")
wait_for_line "$TMP/load" '^(warm|failed)'
warm_fds=$(fetch "/debug/pprof/fds?debug=1")
warm_threads=$(fetch "/debug/pprof/threads?debug=1")
wait_for_line "$TMP/load" '^(done|failed)' 240
grep -q '^failed' "$TMP/load" && fail "the loader saw a protocol error: $(cat "$TMP/loader.log")"
end_fds=$(fetch "/debug/pprof/fds?debug=1")
end_threads=$(fetch "/debug/pprof/threads?debug=1")

expect "fds under load = idle + the loader's connections" \
  "$(total "$warm_fds")" $(($(total "$idle_fds") + CONNECTIONS))
[[ "$(stacks "$warm_fds")" == "$(stacks "$end_fds")" ]] ||
  fail "fds profile changed under load: $(diff <(stacks "$warm_fds") <(stacks "$end_fds"))"
echo "ok: fds profile identical after warm-up and at the end of load ($(total "$end_fds") fds)"
[[ "$(stacks "$warm_threads")" == "$(stacks "$end_threads")" ]] ||
  fail "threads profile changed under load: $(diff <(stacks "$warm_threads") <(stacks "$end_threads"))"
[[ "$(stacks "$idle_threads")" == "$(stacks "$end_threads")" ]] ||
  fail "threads profile differs from idle: $(diff <(stacks "$idle_threads") <(stacks "$end_threads"))"
echo "ok: threads profile identical at idle, after warm-up and at the end ($(total "$end_threads") threads)"
# The accepted connections have their creation stack (memcached's accept), not unknown origin.
expect "unknown-origin fds unchanged by the load" "$(unknown_count "$warm_fds")" "$(unknown_count "$idle_fds")"

wait_for_line "$TMP/load" '^closed' 30
for ((i = 0; i < 100; i++)); do
  now=$(fetch "/debug/pprof/fds?debug=1")
  [[ $(total "$now") == "$(total "$idle_fds")" ]] && break
  sleep 0.1
done
expect "fds after the loader disconnected" "$(total "$now")" "$(total "$idle_fds")"
echo PASS
