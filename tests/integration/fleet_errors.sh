#!/usr/bin/env bash
# leakscope fleet's bad input: one clear line on stderr and the documented exit code.
#   Prometheus unreachable                      -> 1
#   a selector Prometheus rejects               -> 1, Prometheus's own message passed on
#   no series matched                           -> 1
#   a malformed option                          -> 2
# Prometheus here scrapes only itself (job "prom"), so a few series exist. Skips (77) without it.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
source "$SRC/tests/fleet/lib.sh"

expect_exit() {  # expect_exit CODE REGEX ARGS...: runs leakscope fleet ARGS
  local want=$1 regex=$2 rc
  shift 2
  set +e
  "$BUILD/leakscope" fleet "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  set -e
  ((rc == want)) || fail "fleet $*: exit $rc, want $want; stderr: $(cat "$TMP/err")"
  grep -Eq -e "$regex" "$TMP/err" || fail "fleet $*: stderr does not match '$regex': $(cat "$TMP/err")"
  [[ $(wc -l <"$TMP/err") -le 1 ]] || fail "fleet $*: more than one line on stderr: $(cat "$TMP/err")"
  echo "ok: exit $rc: $(cat "$TMP/err")"
}

port=$(free_port)  # nothing listens there
expect_exit 1 "cannot reach Prometheus at http://127.0.0.1:$port" --prometheus "127.0.0.1:$port"
expect_exit 2 "--window" --prometheus "127.0.0.1:$port" --window 6x
expect_exit 2 "--selector" --prometheus "127.0.0.1:$port" --selector 'job="api"'

mkdir -p "$TMP/tsdb"
printf 'global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: prom\n    static_configs: [{targets: ["%s"]}]\n' \
  placeholder >"$TMP/prometheus.yml"
start_prometheus "$TMP/prometheus.yml" "$TMP/tsdb"
expect_exit 1 "parse error" --prometheus "$PROM" --selector '{job=~"api"' --window 5m
expect_exit 1 'no series matched \{job="nope"\}' --prometheus "$PROM" --selector '{job="nope"}' \
  --window 5m
