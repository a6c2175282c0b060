# Sourced by the cli_* integration tests: builds profgen with Debian's Go (standard library only,
# offline) and runs it on a loopback port of the kernel's choosing, stopped on exit.
#   profgen_session       the usual test set-up: a scratch dir in $work, $leakscope, profgen
#                         started there; stopped and the dir removed on exit
#   profgen_start DIR     builds into DIR, starts it; sets PROFGEN_URL and PROFGEN_PID
#   profgen_build DIR     only builds it into DIR (for scripts with cleanups of their own, e.g.
#                         tests/detective/lib.sh's, which then `track $PROFGEN_PID`)
#   profgen_launch DIR [VAR=VALUE...]   only starts DIR/profgen with those variables, its output
#                         in DIR/profgen.log; sets PROFGEN_URL and PROFGEN_PID
#   profgen_fetch PATH OUT   GETs PROFGEN_URL/PATH into OUT (bounded in time)
#   profgen_heap OUT      the heap profile with everything allocated so far in it (see below)
#   profgen_leak_heap N OUT   N requests of each kind, then the heap profile, until the leak shows
#   profgen_load N        N requests to /leak and N to /work
# Needs LEAKSCOPE_SOURCE and LEAKSCOPE_BUILD (set by ctest). Exits 77 (skip) without go or curl.

profgen_build() {
  local dir=$1
  command -v go >/dev/null || { echo "skip: go is not installed"; exit 77; }
  command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }
  mkdir -p "$dir"
  (cd "$LEAKSCOPE_SOURCE/tests/go/profgen" &&
    GOFLAGS=-mod=mod GOPROXY=off GOCACHE="$LEAKSCOPE_BUILD/go-cache" \
      go build -o "$dir/profgen" .)
}

profgen_launch() {
  local dir=$1 i
  shift
  rm -f "$dir/announce"
  env "$@" "$dir/profgen" -announce "$dir/announce" >"$dir/profgen.log" 2>&1 &
  PROFGEN_PID=$!
  for i in $(seq 100); do
    [[ -s "$dir/announce" ]] && break
    kill -0 "$PROFGEN_PID" 2>/dev/null || { cat "$dir/profgen.log"; return 1; }
    sleep 0.1
  done
  PROFGEN_URL=$(cat "$dir/announce" 2>/dev/null || true)
  [[ -n "$PROFGEN_URL" ]] || { kill "$PROFGEN_PID"; echo "profgen did not announce its port"; return 1; }
}

profgen_start() {
  profgen_build "$1"
  profgen_launch "$1"
  trap 'kill $PROFGEN_PID 2>/dev/null || true; wait $PROFGEN_PID 2>/dev/null || true' EXIT
}

profgen_fetch() {
  curl -sSf --max-time 20 -o "$2" "$PROFGEN_URL/$1"
}

# Go publishes a heap profile as of a completed GC cycle, and ?gc=1's runtime.GC() publishes only
# when no background cycle finished while it swept (runtime/mgc.go, GC: the mProf_PostSweep
# condition): right after 30 requests of each kind, one forced GC showed 0.8 MB allocated, a
# second 2.2 MB. A second forced GC publishes what the first left out.
profgen_heap() {
  profgen_fetch "debug/pprof/heap?gc=1" /dev/null
  profgen_fetch "debug/pprof/heap?gc=1" "$1"
}

# profgen_leak_heap N OUT: N requests of each kind, then the heap profile into OUT, repeated (at
# most 4 times) until main.leakyRemember is in it. About 1 process in 50 under ctest sampled none
# of its first 30 + 30 requests (3.9 MB at MemProfileRate 64 KiB: its heap and allocs profiles
# held 4 to 8 samples, all of the runtime's start-up or of the pprof handlers; allocs?debug=1 said
# TotalAlloc 4.9 MB, NumGC 2), and the next 30 + 30 were sampled as usual: a sampler still counting
# down from a draw at the 512 KiB rate that was in force before main set its own, we think. The
# rounds are printed, so a test that needed more than one says so.
profgen_leak_heap() {
  local round top
  for round in 1 2 3 4; do
    profgen_load "$1"
    profgen_heap "$2"
    top=$(go tool pprof -top -nodefraction=0 -sample_index=inuse_space "$2" 2>/dev/null)
    if grep -q 'main\.leakyRemember$' <<<"$top"; then
      echo "profgen: the leak is in the heap profile after $round round(s) of $1 requests"
      return 0
    fi
  done
  echo "profgen: main.leakyRemember is in no heap profile after 4 rounds of $1 requests" >&2
  return 1
}

profgen_load() {
  local i args=()
  for ((i = 0; i < $1; i++)); do
    args+=(-o /dev/null "$PROFGEN_URL/leak" -o /dev/null "$PROFGEN_URL/work")
  done
  curl -sSf --max-time 60 "${args[@]}"  # one connection, reused
}

profgen_session() {
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  leakscope="$LEAKSCOPE_BUILD/leakscope"
  profgen_start "$work"
  trap 'kill $PROFGEN_PID 2>/dev/null || true; rm -rf "$work"' EXIT
}
