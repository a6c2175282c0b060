#!/usr/bin/env bash
# Slots before authentication (issue 18, item 9): 16 clients that send half a request and
# wait, plus a client that reconnects over and over, once kept every slot and made the server
# answer 503 for 10 s. Now a client has 2 s to send its request, and a newcomer takes the place of
# the oldest client still sending: every probe is answered 200, with a token or without.
# Also: a client that half-closes after its request gets the answer (item 10), and the bearer
# scheme is case-insensitive (item 11).
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_named_sites

# attack_and_probe AUTH...: holds 16 slow clients and a reconnecting one, sends 35 probes.
attack_and_probe() {
  local host=${ADDR%:*} port=${ADDR##*:} i ok=0 codes=""
  for i in $(seq 16); do
    (exec 3<>"/dev/tcp/$host/$port" && printf 'GET /debug/pp' >&3 && sleep 15) 2>/dev/null &
    PIDS+=($!)
  done
  (for i in $(seq 400); do exec 3<>"/dev/tcp/$host/$port" || true; done; sleep 15) 2>/dev/null &
  PIDS+=($!)
  sleep 0.2
  for i in $(seq 35); do
    c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "http://$ADDR/healthz" || true)
    codes+="$c "
    [[ $c == 200 ]] && ok=$((ok + 1))
  done
  echo "probes answered 200: $ok of 35 ($codes)"
  ((ok == 35)) || fail "slow clients kept probes out"
  stop_children  # the agent too: the next case starts its own
}

echo "== loopback, no token"
start_agent plain -- "$PROG" "$TMP/plain.ready"
attack_and_probe
echo "== with a token"
start_agent tok LEAKSCOPE_TOKEN=s3cret -- "$PROG" "$TMP/tok.ready"
attack_and_probe -H 'Authorization: Bearer s3cret'

echo "== the bearer scheme is case-insensitive; other schemes are refused"
start_agent auth LEAKSCOPE_TOKEN=s3cret -- "$PROG" "$TMP/auth.ready"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
expect "bearer" "$(code -H 'Authorization: bearer s3cret' "http://$ADDR/healthz")" 200
expect "BEARER, two spaces" "$(code -H 'Authorization: BEARER  s3cret' "http://$ADDR/healthz")" 200
expect "wrong token" "$(code -H 'Authorization: bearer s3cre' "http://$ADDR/healthz")" 401
expect "Basic" "$(code -H 'Authorization: Basic s3cret' "http://$ADDR/healthz")" 401
expect "no credentials" "$(code -H 'Authorization: Bearer' "http://$ADDR/healthz")" 401

echo "== a client that half-closes after its request gets the answer"
if ! command -v python3 >/dev/null; then
  echo "no python3: half-close case skipped"
  echo PASS
  exit 0
fi
python3 - "${ADDR%:*}" "${ADDR##*:}" <<'PY' || fail "half-closed client"
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
for i in range(20):
    s = socket.create_connection((host, port), timeout=10)
    # Corked, the request and the FIN leave in one segment: the agent's first read finds both
    # (without the cork the agent usually reads the request before the FIN comes).
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    s.close()
    if not data.startswith(b"HTTP/1.1 200 ") or not data.endswith(b"\r\n\r\nok\n"):
        sys.exit("round %d: %r" % (i, data[:80]))
print("20 half-closed clients answered")
PY
echo PASS
