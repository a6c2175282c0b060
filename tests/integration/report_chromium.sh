#!/usr/bin/env bash
# The HTML report opens in a real browser: fixture reports (a `run` of the demo, a 30-minute
# `watch`, a /proc-only watch with no stacks) are rendered by the C++ renderer and opened in
# Debian's headless Chromium; the check (web/test/check_page.mjs, over playwright-core) fails on
# any console error, uncaught exception or network request, and unless every chart and flame
# graph drew, search found frames and a click zoomed. When a demo run left a real report
# (LEAKSCOPE_DEMO_REPORT=DIR/report.html), it is checked the same way. Screenshots (light and
# dark) are kept in $LEAKSCOPE_BUILD/test-artifacts/report/.
set -euo pipefail
src=${LEAKSCOPE_SOURCE:?} build=${LEAKSCOPE_BUILD:?}
source "$src/tests/report/lib.sh"
need_page_check

out=$build/test-artifacts/report
rm -rf "$out"
mkdir -p "$out"
gen=$src/tests/data/report/gen_report.py

page() {  # page NAME EXPECTED_FINDINGS [check args...]
  local name=$1 findings=$2
  shift 2
  "$RENDER" "$out/$name.json" "$out/$name.html"
  echo "== $name: $(wc -c <"$out/$name.html") bytes"
  timeout 120 node "$CHECK_PAGE" --html "$out/$name.html" --screenshot "$out/$name.png" \
    --expect-findings "$findings" "$@"
}

python3 "$gen" run >"$out/run.json"
page run 4 --dark "$out/run-dark.png"

python3 "$gen" proc >"$out/proc.json"
page proc 1

python3 "$gen" watch --duration 1800 --interval 1 >"$out/watch.json"
page watch 15

# A real report from the demo, when one is at hand (the detective writes DIR/report.html).
if [[ -n ${LEAKSCOPE_DEMO_REPORT:-} && -f $LEAKSCOPE_DEMO_REPORT ]]; then
  cp "$LEAKSCOPE_DEMO_REPORT" "$out/demo.html"
  timeout 120 node "$CHECK_PAGE" --html "$out/demo.html" --screenshot "$out/demo.png"
fi
echo "screenshots in $out"
