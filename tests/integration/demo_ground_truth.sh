#!/usr/bin/env bash
# examples/ground_truth.json is true of the binaries: every endpoint and fixed variant it lists
# answers 200 on both services; every C++ function it names is a defined symbol of
# leaky-service under exactly that name, with no split or cloned copy (f.cold, f.constprop.0,
# f.isra.0, f.part.0) that a symbolizer could print instead; every Rust function it names is a
# function of leaky-rust under that demangled path (crate::module::fn, the hash dropped, as
# leakscope prints it; checked only when rustc built leaky-rust); every Go function it names is in
# leaky-go; and after 400 requests to each Go leak, the service's own heap and goroutine profiles
# (go tool pprof -traces) show each expected Go function under the expected kind, by the file's
# matching rule.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"
GT=$SOURCE/examples/ground_truth.json
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }

# names LANG: every function name the file gives for LANG, one per line.
names() {
  python3 - "$GT" "$1" <<'PY'
import json, sys
gt, lang = json.load(open(sys.argv[1])), sys.argv[2]
out = set(gt["services"][lang]["must_not_flag"])
for e in gt["endpoints"]:
    side = e.get(lang)
    if not side:  # the Rust service implements only some endpoints
        continue
    out.update(n for n in (side["function"], side["fixed_function"], side.get("thread_entry")) if n)
    out.update(x["function"] for x in side["expect"] if x["function"])
print("\n".join(sorted(out)))
PY
}

# paths: every path and fixed variant.
paths() {
  python3 - "$GT" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["endpoints"]:
    print(e["path"])
    if e["fixed"]:
        print(e["fixed"])
PY
}

check_answers() {
  local path
  for path in $(paths); do
    curl -sf -o /dev/null "$SVC_URL$path" || fail "$1: GET $path did not answer 200"
  done
}

symbols=$(nm --defined-only "$CPP_BIN")
for name in $(names cpp); do
  grep -qE "^[0-9a-f]+ T $name\$" <<<"$symbols" || fail "C++: no defined function $name in $CPP_BIN"
  if grep -qE " $name\.(cold|constprop|isra|part)" <<<"$symbols"; then
    fail "C++: $name has a split or cloned copy: $(grep -E " $name\." <<<"$symbols")"
  fi
done
echo "cpp: $(names cpp | wc -l) functions defined under their own names"
start_service cpp
check_answers cpp

# nm demangles both Rust manglings (legacy, hash dropped, and v0) with libiberty, as leakscope's
# symbolizer does (core/symbolize/demangle.h), so a name matches a whole demangled symbol.
if [[ -x $RUST_BIN ]]; then
  rustsyms=$(nm --defined-only --demangle "$RUST_BIN" | sed -n 's/^[0-9a-f]* [tT] //p')
  for name in $(names rust); do
    grep -qxF -- "$name" <<<"$rustsyms" || fail "Rust: no function $name in $RUST_BIN"
  done
  echo "rust: $(names rust | wc -l) functions present"
else
  echo "rust: SKIP: $RUST_BIN not built (no rustc), its function names are not checked"
fi

require_go
export GOCACHE=$BUILD/go/cache
gosyms=$(go tool nm "$GO_BIN")
for name in $(names go); do
  grep -qF " T $name"$'\n' <<<"$gosyms"$'\n' || fail "Go: no function $name in $GO_BIN"
done
echo "go: $(names go | wc -l) functions present"

# A fine sampling rate (4 KiB) so that 400 requests of 2 KiB leave many samples per site.
out=$DEMO_TMP/go.out
"$GO_BIN" -port 0 -debug-port 0 -mem-profile-rate 4096 >"$out" 2>&1 &
SVC_PID=$!
disown "$SVC_PID"
DEMO_PIDS+=("$SVC_PID")
for ((i = 0; i < 100; i++)); do grep -q '^listening on ' "$out" && break; sleep 0.1; done
SVC_URL=http://127.0.0.1:$(sed -n 's/^listening on [0-9.]*:\([0-9]*\)$/\1/p' "$out")
PPROF_URL=http://127.0.0.1:$(sed -n 's/^pprof on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
DEMO_PIDS+=("$(sed -n 's/^backend on .* pid \([0-9]*\)$/\1/p' "$out")")
check_answers go
for path in $(python3 -c 'import json,sys; print(" ".join(e["path"] for e in json.load(open(sys.argv[1]))["endpoints"] if e["leaks"]))' "$GT"); do
  load "$path" 400
done
# Twice: the first forced GC may leave the load unpublished (tests/go/profgen/profgen.sh says why).
curl -sf -o /dev/null "$PPROF_URL/debug/pprof/heap?gc=1"
curl -sf -o "$DEMO_TMP/heap.pb.gz" "$PPROF_URL/debug/pprof/heap?gc=1"
curl -sf -o "$DEMO_TMP/goroutine.pb.gz" "$PPROF_URL/debug/pprof/goroutine"
go tool pprof -traces -sample_index=inuse_space "$DEMO_TMP/heap.pb.gz" >"$DEMO_TMP/heap.traces" 2>/dev/null
go tool pprof -traces "$DEMO_TMP/goroutine.pb.gz" >"$DEMO_TMP/goroutines.traces" 2>/dev/null

python3 - "$GT" "$DEMO_TMP/heap.traces" "$DEMO_TMP/goroutines.traces" <<'PY'
import json, re, sys
gt = json.load(open(sys.argv[1]))
value = re.compile(r"^-?[0-9.]+([kMGT]?B)?$")

def frames(path):
    """Function names of every frame in a `pprof -traces` listing."""
    out = set()
    for line in open(path):
        if not line.startswith(" ") or ":" in line.split()[0]:
            continue
        toks = line.split()
        if toks and value.match(toks[0]) and len(toks) > 1:
            toks = toks[1:]
        if toks:
            out.add(toks[0])
    return out

def matches(frame, name):
    return frame == name or any(frame.startswith(name + s) for s in (".", "::", "(", " "))

have = {"heap": frames(sys.argv[2]), "goroutines": frames(sys.argv[3])}
bad = []
for e in gt["endpoints"]:
    for x in e["go"]["expect"]:
        if x["kind"] in have and x["function"]:
            if not any(matches(f, x["function"]) for f in have[x["kind"]]):
                bad.append(f'{e["path"]}: no {x["kind"]} frame matches {x["function"]}')
            else:
                print(f'go {e["path"]}: {x["kind"]} at {x["function"]}')
if bad:
    sys.exit("FAIL: " + "; ".join(bad))
PY
echo PASS
