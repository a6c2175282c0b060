#!/usr/bin/env bash
# The page of a 30-minute `watch` at 1 s intervals (1,801 points per series, 15 findings each
# with its own series, 400 growth and 1,500 live-heap stacks) stays under 5 MB, and the page of a
# small run stays within 200 KiB of its JSON (the bundled script and stylesheet, and escaping).
# Sizes are deterministic: the fixture generator is seeded.
set -euo pipefail
src=${LEAKSCOPE_SOURCE:?} build=${LEAKSCOPE_BUILD:?}
render=$build/leakscope_render_report
out=$build/test-artifacts/report-size
mkdir -p "$out"

python3 "$src/tests/data/report/gen_report.py" watch --duration 1800 --interval 1 >"$out/watch.json"
"$render" "$out/watch.json" "$out/watch.html"
bytes=$(wc -c <"$out/watch.html")
echo "30-minute watch: $bytes bytes (json $(wc -c <"$out/watch.json"))"
((bytes < 5 * 1000 * 1000)) || { echo "FAIL: the page is $bytes bytes, over 5 MB" >&2; exit 1; }

"$render" "$src/tests/data/report/run_small.json" "$out/run.html"
json=$(wc -c <"$src/tests/data/report/run_small.json")
html=$(wc -c <"$out/run.html")
echo "small run: page $html bytes, json $json bytes"
((html - json < 200 * 1024)) || { echo "FAIL: the page adds $((html - json)) bytes to its JSON" >&2; exit 1; }
grep -q 'id="leakscope-report"' "$out/run.html"
