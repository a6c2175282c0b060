#!/usr/bin/env bash
# /metrics speaks the Prometheus text format 0.0.4, so the cardinality leak is visible to any
# scraper: the exact Content-Type, a body that ends with a newline, HELP and TYPE before each
# family, every sample line well formed, and a label value with a quote and a backslash (sent
# raw, as a client may) escaped as \" and \\. C++ and Go.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

check_format() {
  local lang=$1 headers body port
  port=${SVC_URL##*:}
  # A raw request: curl would percent-encode the quote.
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET /metrics-by-path?x="a\\b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  grep -q '^HTTP/1.1 200' <(head -n1 <&3) || fail "$lang: the raw request was refused"
  exec 3>&-
  load /metrics-by-path 50

  headers=$DEMO_TMP/$lang.headers
  body=$DEMO_TMP/$lang.body
  curl -sf -D "$headers" -o "$body" "$SVC_URL/metrics" || fail "$lang: GET /metrics failed"
  grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8'$'\r''$' "$headers" ||
    fail "$lang: Content-Type is $(grep -i '^content-type' "$headers")"
  [[ $(tail -c1 "$body" | od -An -c | tr -d ' ') == '\n' ]] || fail "$lang: body does not end with a newline"
  grep -qF 'leaky_path_requests_total{path="/metrics-by-path?x=\"a\\b"} 1' "$body" ||
    fail "$lang: label value not escaped: $(grep 'x=' "$body")"
  # Sample lines: name{label="value",...} number. Comments: # HELP name text / # TYPE name kind.
  local sample='^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? -?[0-9][0-9.e+-]*$'
  local comment='^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$'
  local bad
  bad=$(grep -Ev "$sample|$comment" "$body" | head -n3 || true)
  [[ -z $bad ]] || fail "$lang: malformed lines: $bad"
  # Every family's samples follow its own TYPE line.
  awk '/^# TYPE / { typed[$3] = 1; next } /^#/ { next }
       { name = $0; sub(/[{ ].*/, "", name); if (!typed[name]) { print name; exit 1 } }' "$body" >/dev/null ||
    fail "$lang: a sample comes before its family's TYPE line"
  local n
  n=$(grep -c '^leaky_path_requests_total{' "$body")
  ((n >= 51)) || fail "$lang: $n by-path series after 51 distinct URLs"
  echo "$lang: /metrics well formed, $n by-path series"
}

start_service cpp
check_format cpp

require_go
start_service go
check_format go
echo PASS
