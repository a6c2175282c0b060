#!/usr/bin/env bash
# leakscope run, with the agent, finds every leak of the Rust demo service (examples/leaky-rust:
# std only, built by rustc) with the right kind and the pattern's demangled Rust function
# (leaky_rust::heap::leak_request_context, ...) in its site or stack, under one paced load of all
# its patterns at once (about 10 s of load), and exits 3. Each of those stacks is symbolized from
# the binary's DWARF: it shows a .rs file with a line, one of them in examples/leaky-rust/.
set -euo pipefail
source "$(dirname "$0")/run_demo_rust_lib.bash"

leak_load() {
  local u=$1
  echo "$PACED $u/append-slice 3000 300 & $PACED $u/request-context 3000 300 &" \
    "$PACED $u/hanging-thread 200 20 & $PACED $u/open-file 500 50 & wait"
}

rust_demo_run leak_load
[[ $DEMO_RC -eq 3 ]] || { echo "FAIL: exit $DEMO_RC, expected 3 (leak found)" >&2; exit 1; }
python3 "$CHECK" "$WORK/out/report.json" "$TRUTH" rust \
  --expect append-slice,request-context,hanging-thread,open-file
python3 - "$WORK/out/report.json" "$TRUTH" <<'PY'
import json, sys
report, truth = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
wanted = [x for ep in truth["endpoints"] if "rust" in ep for x in ep["rust"]["expect"]]
for want in wanted:
    for f in report["findings"]:
        frames = [f["site"]] + f["stack"]
        if f["verdict"] == "leak" and f["kind"] == want["kind"] and \
                any(fr["function"] == want["function"] for fr in frames):
            break
    else:
        sys.exit("FAIL: no %s leak names %s exactly" % (want["kind"], want["function"]))
    ours = [fr for fr in f["stack"]
            if "examples/leaky-rust/" in fr["file"] and fr["file"].endswith(".rs") and fr["line"] > 0]
    if not ours:
        sys.exit("FAIL: %s: no frame at examples/leaky-rust/*.rs:LINE in %s" % (want["function"], f["stack"]))
    print("%s %s: %s:%d" % (want["kind"], want["function"], ours[0]["file"], ours[0]["line"]))
PY
