#!/usr/bin/env bash
# A Go program run under the agent (the README's first example with a Go service): Go allocates
# without malloc, so the agent's heap stays empty and the run would end in "no leak" or
# "retention"; a static Go binary ignores LD_PRELOAD and the run waited 20 s for a port. Both
# are recognised from the ELF file (.go.buildinfo / .note.go.buildid) before the program starts,
# and a wrapper script that execs one is recognised from /proc/PID/exe: exit 1 at once, with the
# --pprof command line to use instead.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need go python3
mkdir -p "$WORK/go"
(cd "$SRC/tests/go/profgen" && GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$BUILD/go-cache" \
  go build -o "$WORK/go/profgen" . &&
  CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$BUILD/go-cache" \
    go build -o "$WORK/go/profgen-static" .)

# expect_go_refused NAME PROGRAM...: exit 1 within the hang guard (well before the 20 s startup
# timeout), one error line naming --pprof and net/http/pprof.
expect_go_refused() {
  local name=$1 rc=0
  shift
  timeout 15 "$LEAKSCOPE" run --startup-timeout 60 --baseline 1 --cooldown 1 --load "sleep 1" \
    --out "$WORK/$name" -- "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  cat "$WORK/$name.err"
  [[ $rc -eq 1 ]] || { echo "FAIL: $name: exit $rc, expected 1" >&2; exit 1; }
  grep -q "^leakscope: error: .* is a Go program" "$WORK/$name.err"
  grep -q -- "--pprof http://HOST:PORT/debug/pprof/" "$WORK/$name.err"
  grep -q 'net/http/pprof' "$WORK/$name.err"
  [[ $(grep -c "^leakscope: error:" "$WORK/$name.err") -eq 1 ]]
}

expect_go_refused dynamic "$WORK/go/profgen"
expect_go_refused static "$WORK/go/profgen-static"
# On PATH, by name.
PATH="$WORK/go:$PATH" expect_go_refused by-name profgen
# Behind a wrapper that execs it: seen once it runs.
printf '#!/bin/sh\nexec "%s" "$@"\n' "$WORK/go/profgen" >"$WORK/go/wrapper"
chmod +x "$WORK/go/wrapper"
expect_go_refused wrapper "$WORK/go/wrapper"
# Behind a wrapper that forks it: the heap stays empty, and the Go child is found in the tree.
printf '#!/bin/sh\n"%s" "$@"\n' "$WORK/go/profgen" >"$WORK/go/forker"
chmod +x "$WORK/go/forker"
expect_go_refused forker "$WORK/go/forker"
echo ok
