#!/usr/bin/env bash
# The debug server's behaviour: routes (/healthz, /cmdline, /symbol GET and POST, 404, the
# sampling switch), security (a non-loopback address without LEAKSCOPE_TOKEN is refused and the
# host keeps running; with a token, 401 without "Authorization: Bearer"), and robustness (slow
# and malformed clients do not block other clients).
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_named_sites
get() { curl -s --max-time 10 "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }

echo "== non-loopback without a token: refused, host keeps running"
env LD_PRELOAD="$AGENT" LEAKSCOPE_ADDR=0.0.0.0:0 LEAKSCOPE_ANNOUNCE="$TMP/open.addr" \
  "$PROG" "$TMP/open.ready" 2>"$TMP/open.err" &
PIDS+=($!)
wait_for_file "$TMP/open.ready"
grep -q 'leakscope: refusing to serve profiles on non-loopback address 0.0.0.0:0 without LEAKSCOPE_TOKEN' \
  "$TMP/open.err" || fail "no refusal on stderr: $(cat "$TMP/open.err")"
[[ ! -e $TMP/open.addr ]] || fail "announced an address it must not serve"
kill -0 "${PIDS[-1]}" || fail "host died"

echo "== token: 401 without it, 200 with it"
start_agent tok LEAKSCOPE_TOKEN=s3cret -- "$PROG" "$TMP/tok.ready"
[[ $(code "http://$ADDR/healthz") == 401 ]] || fail "no 401 without a token"
[[ $(code -H 'Authorization: Bearer wrong' "http://$ADDR/debug/pprof/heap") == 401 ]] ||
  fail "no 401 with a wrong token"
[[ $(get -H 'Authorization: Bearer s3cret' "http://$ADDR/healthz") == ok ]] || fail "token refused"

echo "== routes"
start_agent srv -- "$PROG" "$TMP/srv.ready"
wait_for_file "$TMP/srv.ready"
[[ $(get "http://$ADDR/healthz") == ok ]] || fail healthz
get "http://$ADDR/debug/pprof/cmdline" | tr '\0' ' ' | grep -q "agent_named_sites $TMP/srv.ready" ||
  fail cmdline
get "http://$ADDR/debug/pprof/" | grep -q 'href="/debug/pprof/heap"' || fail index
[[ $(code "http://$ADDR/nope") == 404 ]] || fail "no 404"
[[ $(get "http://$ADDR/debug/pprof/symbol") == "num_symbols: 1" ]] || fail "symbol GET"
fn=$(nm "$PROG" | awk '$3 == "leaky_cache_insert" {print $1}')
get --data-binary "0x${fn#"${fn%%[!0]*}"}+0x1" -H 'Content-Type: application/octet-stream' \
  "http://$ADDR/debug/pprof/symbol" | grep -Eq $'^0x[0-9a-f]+\tleaky_cache_insert$' || fail "symbol POST"
get "http://$ADDR/debug/pprof/heap?debug=1" | grep -q '^heap profile: .* @ heapprofile$' || fail debug=1
get "http://$ADDR/debug/pprof/heap?debug=1" | grep -q 'leaky_cache_insert' || fail "debug=1 names"
[[ $(code "http://$ADDR/debug/leakscope/sampling?enable=0") == 405 ]] || fail "GET may not switch"
[[ $(get -X POST "http://$ADDR/debug/leakscope/sampling?enable=0") == "sampling: off" ]] || fail off
[[ $(get -X POST "http://$ADDR/debug/leakscope/sampling?enable=1") == "sampling: on" ]] || fail on

echo "== slow and malformed clients do not block others"
for i in 1 2 3 4 5; do  # each sends half a request line and then nothing
  (exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR##*:}" && printf 'GET /debug/pp' >&3 && sleep 30) &
  PIDS+=($!)
done
[[ $(printf 'BLAH\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/${ADDR%:*}/${ADDR##*:}; cat >&3; cat <&3" |
  head -n1 | tr -d '\r') == "HTTP/1.1 400 Bad Request" ]] || fail "malformed request not answered 400"
sleep 0.5
for i in 1 2 3; do
  [[ $(get "http://$ADDR/healthz") == ok ]] || fail "blocked by slow clients"
done
curl -sf --max-time 10 "http://$ADDR/debug/pprof/heap" -o "$TMP/heap.pb.gz" || fail "heap blocked"
echo PASS
