#!/usr/bin/env bash
# Every pprof reader names every frame of the agent's profiles, for any binary (issue 12).
#
# Readers: `go tool pprof` (Debian's Go) and Google's standalone `pprof` (built here, offline,
# from Debian's golang-github-google-pprof-dev). Binaries, built here: C and C++ (PIE and
# non-PIE, -O0 and -O2, DWARF 4 and 5), Rust when rustc exists, and a stripped binary whose
# debug info sits under a temporary build-id directory. Each program (tests/agent/readers/)
# keeps memory in a static function, exported ones, a shared library's and a plugin's loaded
# with dlopen after start, and makes a thread, pipes and an anonymous mapping.
#
# Every cell: both readers name every site of /heap, the binary given on the command line
# (go tool pprof) or found by its mapping's path (pprof). The first cell also reads every
# profile (heap, allocs, threads, fds, mmap) in every way: binary on the command line, by
# mapping path, remote symbolization only, from a saved file, from `leakscope top
# --write-profile`'s file, from a leakscope session's snapshot and from an agent dump; pprof
# -symbolize=force adds DWARF's lines; asks /debug/pprof/symbol for static functions; and
# checks the bar of issue 12: `go tool pprof -top` gives each site its bytes
# within 15% (rate 4096 and 256 KiB blocks: every block is sampled, so this is exact).
# A failure names the reader, the way it read, the binary and the frame.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
command -v go >/dev/null || { echo "SKIP: no go toolchain (golang-go)"; exit 77; }
R=$SRC/tests/agent/readers

# Google's pprof: GOPATH mode over Debian's sources, no module proxy needed; built once per
# build tree.
PPROF=$BUILD/tools/pprof
if [[ ! -x $PPROF ]]; then
  gopath=/usr/share/gocode
  if [[ ! -d $gopath/src/github.com/google/pprof ]]; then
    echo "SKIP: golang-github-google-pprof-dev is not installed (scripts/setup installs it)"
    exit 77
  fi
  mkdir -p "$BUILD/tools"
  if ! GO111MODULE=off GOPATH=$gopath GOFLAGS='' GOPROXY=off GOCACHE=$BUILD/tools/gocache \
    timeout 900 go build -o "$PPROF.$$" github.com/google/pprof >"$TMP/pprof-build.log" 2>&1; then
    cat "$TMP/pprof-build.log"
    echo "SKIP: cannot build pprof from $gopath"
    exit 77
  fi
  mv "$PPROF.$$" "$PPROF"
fi

failures=0
problem() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# read_top READER WAY BINARY_LABEL OUTFILE ARGS...: runs the reader with -top.
read_top() {
  local reader=$1 way=$2 label=$3 out=$4
  shift 4
  local cmd=(go tool pprof)
  [[ $reader == pprof ]] && cmd=("$PPROF")
  if ! timeout 120 "${cmd[@]}" -top -nodefraction=0 "$@" >"$out" 2>"$out.err"; then
    cat "$out.err" >&2
    problem "$reader ($way) failed on $label"
    return 1
  fi
}

# expect_names READER WAY BINARY_LABEL OUTFILE NAME...: every NAME is a row of the -top table
# (a demangled C++ or Rust name may carry a namespace, a hash or "()"), and no row is an
# unnamed frame ("[prog]").
expect_names() {
  local reader=$1 way=$2 label=$3 out=$4 name
  shift 4
  for name in "$@"; do
    grep -Eq "(^| |::)$name(::h[0-9a-f]+)?(\(\))?\$" "$out" ||
      { cat "$out" >&2; problem "$reader ($way) on $label does not name $name"; }
  done
  # Frames of our binaries only: a system library without symbols (ld.so has only .dynsym)
  # is unnamed for every reader until its debug package is installed.
  local unnamed
  unnamed=$(grep -Eo '\[(prog_[^]]*|libreaders_lib\.so|readers_plugin\.so)\]$' "$out" |
    sort -u | tr '\n' ' ' || true)
  [[ -z $unnamed ]] || problem "$reader ($way) on $label leaves frames unnamed in: $unnamed"
  unnamed=$(grep -Eo '\[[^] ]+\]$' "$out" | sort -u | tr '\n' ' ' || true)
  [[ -z $unnamed ]] || { echo "note: $reader ($way) on $label: system frames unnamed in $unnamed"; [[ -z ${VERBOSE:-} ]] || cat "$out"; }
}

HEAP_C=(keep_static keep_exported lib_keep plugin_keep)
HEAP_CC=("${HEAP_C[@]}" keep_new)

# The shared library and the plugin, once (-O2 -g, PIC).
gcc -O2 -g -fPIC -shared "$R/lib.c" -o "$TMP/libreaders_lib.so"
gcc -O2 -g -fPIC -shared "$R/plugin.c" -o "$TMP/readers_plugin.so"

# build_prog LANG PIE OPT DWARF OUT
build_prog() {
  local lang=$1 pie=$2 opt=$3 dwarf=$4 out=$5 cc=gcc src=(-x c "$R/prog.c")
  [[ $lang == cc ]] && cc=g++ src=(-x c++ "$R/prog.c")
  local flags=("$opt" "-gdwarf-$dwarf")
  [[ $pie == nopie ]] && flags+=(-fno-pie -no-pie)
  "$cc" "${flags[@]}" "${src[@]}" -o "$out" -L"$TMP" -lreaders_lib -Wl,-rpath,"$TMP" -lpthread -ldl
}

# run_prog NAME BINARY [VAR=VALUE...]: starts BINARY under the agent, waits until it is ready.
run_prog() {
  local name=$1 bin=$2
  shift 2
  rm -f "$TMP/$name.ready"
  start_agent "$name" LEAKSCOPE_RATE=4096 "$@" -- "$bin" "$TMP/$name.ready" "$TMP/readers_plugin.so"
  wait_for_file "$TMP/$name.ready" 60
}

# Every cell: /heap, go tool pprof with the binary, pprof by mapping path.
check_cell() {
  local label=$1 bin=$2
  shift 2
  read_top go "binary on the command line" "$label" "$TMP/top" "$bin" \
    "http://$ADDR/debug/pprof/heap" && expect_names go "binary on the command line" "$label" \
    "$TMP/top" "$@"
  read_top pprof "binary by mapping path" "$label" "$TMP/top" "http://$ADDR/debug/pprof/heap" &&
    expect_names pprof "binary by mapping path" "$label" "$TMP/top" "$@"
}

# --- The first cell, read every way: C++, PIE, -O2, DWARF 5 (g++ -O2 -g on Debian 12).
main=$TMP/prog_cc_pie_O2_d5
build_prog cc pie -O2 5 "$main"
mkdir -p "$TMP/dumps"
run_prog main "$main" LEAKSCOPE_DUMP_DIR="$TMP/dumps" LEAKSCOPE_DUMP_INTERVAL=1
declare -A names=([heap]="${HEAP_CC[*]}" [allocs]="${HEAP_CC[*]}" [threads]=start_worker
  [fds]=open_pipes [mmap]=map_region)
for profile in heap allocs threads fds mmap; do
  url=http://$ADDR/debug/pprof/$profile
  read -ra want <<<"${names[$profile]}"
  for reader in go pprof; do
    read_top $reader "binary on the command line" "$profile of $main" "$TMP/t" "$main" "$url" &&
      expect_names $reader "binary on the command line" "$profile of $main" "$TMP/t" "${want[@]}"
    read_top $reader "binary by mapping path" "$profile of $main" "$TMP/t" "$url" &&
      expect_names $reader "binary by mapping path" "$profile of $main" "$TMP/t" "${want[@]}"
    read_top $reader "remote symbolization" "$profile of $main" "$TMP/t" -symbolize=remote "$url" &&
      expect_names $reader "remote symbolization" "$profile of $main" "$TMP/t" "${want[@]}"
  done
  fetch "/debug/pprof/$profile" >"$TMP/$profile.pb.gz"
  "$BUILD/leakscope" top -n 0 --write-profile "$TMP/$profile.written.pb.gz" \
    "$TMP/$profile.pb.gz" >/dev/null
  for reader in go pprof; do
    for file in "$TMP/$profile.pb.gz" "$TMP/$profile.written.pb.gz"; do
      read_top $reader "saved file, binary given" "$profile of $main ($file)" "$TMP/t" "$main" \
        "$file" && expect_names $reader "saved file, binary given" "$profile of $main ($file)" \
        "$TMP/t" "${want[@]}"
      read_top $reader "saved file alone" "$profile of $main ($file)" "$TMP/t" "$file" &&
        expect_names $reader "saved file alone" "$profile of $main ($file)" "$TMP/t" \
          "${want[@]}"
    done
  done
done

# The bar: go tool pprof -top gives each site its bytes (4, 8 and 6 MiB; the library's 3,
# the plugin's 2) and its descriptors (6), within 15%.
read_top go "binary on the command line" "$main" "$TMP/bytes" -unit=B "$main" \
  "http://$ADDR/debug/pprof/heap"
for site in keep_static:4 keep_exported:8 keep_new:6 lib_keep:3 plugin_keep:2; do
  got=$(awk -v f="${site%:*}" '$NF == f { sub(/B$/, "", $1); print $1 }' "$TMP/bytes")
  bytes=$((${site#*:} << 20))
  if [[ -z $got ]] || ((got * 100 < bytes * 85 || got * 100 > bytes * 115)); then
    problem "go tool pprof gives ${site%:*} ${got:-nothing} bytes, want $bytes within 15%"
  fi
done
read_top go "binary on the command line" "$main" "$TMP/fds" "$main" "http://$ADDR/debug/pprof/fds"
got=$(awk '$NF == "open_pipes" { print $1 }' "$TMP/fds")
[[ $got == 6 ]] || problem "go tool pprof gives open_pipes ${got:-nothing} descriptors, want 6"

# /debug/pprof/symbol names static functions and the plugin's (what pprof asks it).
timeout 120 go tool pprof -raw -symbolize=none "http://$ADDR/debug/pprof/heap" >"$TMP/raw" 2>&1
addrs=$(awk '/^Locations/ { on = 1; next } /^Mappings/ { on = 0 } on && $2 ~ /^0x/ { print $2 }' \
  "$TMP/raw" | paste -sd+)
curl -sf --max-time 20 -d "$addrs" "http://$ADDR/debug/pprof/symbol" >"$TMP/symbols" ||
  fail "POST /debug/pprof/symbol"
for name in _ZL11keep_staticv _Z8keep_newv lib_keep plugin_keep; do
  grep -Eq "^0x[0-9a-f]+[[:space:]]+$name\$" "$TMP/symbols" ||
    problem "/debug/pprof/symbol does not name $name (asked for every heap location)"
done

# pprof -symbolize=force replaces the agent's names with DWARF's, with files and lines.
if read_top pprof "forced DWARF symbolization" "$main" "$TMP/t" -symbolize=force -lines "$main" \
  "http://$ADDR/debug/pprof/heap" && ! grep -Eq ' keep_exported .*prog\.c:[0-9]+$' "$TMP/t"; then
  cat "$TMP/t" >&2
  problem "pprof -symbolize=force -lines gives keep_exported no file:line"
fi

# Snapshots of a leakscope session (watch, as run does), read from the files alone.
timeout 120 "$BUILD/leakscope" watch --duration 2 --interval 1 --out "$TMP/watch" \
  "http://$ADDR/debug/pprof/" >"$TMP/watch.log" 2>&1 || true
snapshot=$(compgen -G "$TMP/watch/snapshots/*.heap.pb.gz" | sort | tail -n1 || true)
if [[ -z $snapshot ]]; then
  cat "$TMP/watch.log" >&2
  problem "leakscope watch wrote no heap snapshot"
else
  for reader in go pprof; do
    read_top $reader "leakscope snapshot" "heap of $main" "$TMP/t" "$snapshot" &&
      expect_names $reader "leakscope snapshot" "heap of $main" "$TMP/t" "${HEAP_CC[@]}"
  done
fi

# An agent dump (LEAKSCOPE_DUMP_DIR), read from the file alone.
for ((i = 0; i < 200; i++)); do
  compgen -G "$TMP/dumps/fds.*.pb.gz" >/dev/null && break
  sleep 0.1
done
for profile in heap mmap threads fds; do
  read -ra want <<<"${names[$profile]}"
  dump=$(compgen -G "$TMP/dumps/$profile.*.pb.gz" | sort | tail -n1 || true)
  [[ -n $dump ]] || { problem "no $profile dump in LEAKSCOPE_DUMP_DIR"; continue; }
  for reader in go pprof; do
    read_top $reader "agent dump" "$profile of $main" "$TMP/t" "$dump" &&
      expect_names $reader "agent dump" "$profile of $main" "$TMP/t" "${want[@]}"
  done
done
stop_children

# --- The matrix, /heap only.
for lang in c cc; do
  for pie in pie nopie; do
    for opt in -O0 -O2; do
      for dwarf in 4 5; do
        [[ $lang$pie$opt$dwarf == ccpie-O25 ]] && continue # the first cell
        bin=$TMP/prog_${lang}_${pie}${opt}_d$dwarf
        build_prog $lang $pie $opt $dwarf "$bin"
        run_prog cell "$bin"
        if [[ $lang == cc ]]; then
          check_cell "$bin" "$bin" "${HEAP_CC[@]}"
        else
          check_cell "$bin" "$bin" "${HEAP_C[@]}"
        fi
        stop_children
      done
    done
  done
done

# --- Stripped: the symbols and DWARF live in a build-id debug directory (the agent's
# LEAKSCOPE_DEBUG_DIR, pprof's PPROF_BINARY_PATH), never in /usr/lib/debug.
stripped=$TMP/prog_stripped
build_prog cc pie -O2 5 "$stripped"
id=$(readelf -n "$stripped" | awk '/Build ID/ { print $3 }')
mkdir -p "$TMP/debug/.build-id/${id:0:2}" "$TMP/binaries/$id"
objcopy --only-keep-debug "$stripped" "$TMP/debug/.build-id/${id:0:2}/${id:2}.debug"
cp "$TMP/debug/.build-id/${id:0:2}/${id:2}.debug" "$TMP/binaries/$id/prog_stripped"
strip --strip-all "$stripped"
run_prog stripped "$stripped" LEAKSCOPE_DEBUG_DIR="$TMP/debug"
PPROF_BINARY_PATH=$TMP/binaries check_cell "stripped $stripped" "$stripped" "${HEAP_CC[@]}"
PPROF_BINARY_PATH=$TMP/binaries read_top pprof "forced, debug file by build ID" \
  "stripped $stripped" "$TMP/t" -symbolize=force "http://$ADDR/debug/pprof/heap" &&
  expect_names pprof "forced, debug file by build ID" "stripped $stripped" "$TMP/t" \
    "${HEAP_CC[@]}"
stop_children

# --- Rust.
if command -v rustc >/dev/null; then
  rustc -g -C opt-level=2 -o "$TMP/prog_rust" "$R/prog.rs" 2>"$TMP/rustc.log" ||
    { cat "$TMP/rustc.log"; fail "rustc"; }
  run_prog rust "$TMP/prog_rust"
  check_cell "$TMP/prog_rust" "$TMP/prog_rust" keep_rust
  stop_children
else
  echo "SKIP (cell): no rustc, the Rust binary is not checked"
fi

((failures == 0)) || fail "$failures reader checks failed (above)"
echo PASS
