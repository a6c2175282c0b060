#!/usr/bin/env bash
# The HTML report explains itself where a reader would otherwise guess (issue 17): the live heap
# of a Go service (--pprof) is labelled "Live heap (Go)", not the agent's estimate; the findings
# say what confidence means; an inconclusive finding shows no confidence and a next step; an
# unsymbolized site says where debug info is looked for. Checked in Debian's headless Chromium
# (web/test/check_page.mjs), on a fixture report changed to have each case.
set -euo pipefail
src=${LEAKSCOPE_SOURCE:?}
source "$src/tests/report/lib.sh"
need_page_check
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$src/tests/data/report/gen_report.py" run >"$work/run.json"
python3 - "$work/run.json" "$work/hints.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["target"]["source"] = "pprof"
fs = r["findings"]
assert len(fs) >= 3, len(fs)
fs[1]["verdict"] = "inconclusive"
fs[1]["confidence"] = 0.42
fs[2]["site"]["function"] = "service+0x1a2b"
json.dump(r, open(sys.argv[2], "w"))
PY
"$RENDER" "$work/hints.json" "$work/hints.html"
timeout 120 node "$CHECK_PAGE" --html "$work/hints.html" \
  --screenshot "$work/hints.png" \
  --expect-text "Live heap (Go)" \
  --expect-text "Confidence: how sure the judge is" \
  --expect-text "Next step: give it more evidence" \
  --expect-text "runtime.MemProfileRate in the program" \
  --expect-text "Next step: this frame has no symbols" \
  --expect-text "/usr/lib/debug/.build-id/" \
  --expect-text "addr2line -f -e service 0x1a2b"
echo ok
