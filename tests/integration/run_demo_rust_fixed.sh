#!/usr/bin/env bash
# No false positives on the Rust demo's fixed variants and its steady cache: the same patterns,
# ?fixed=1, under load with the agent, plus the LRU cache driven fast enough to fill in the first
# seconds and then churn at a flat size. leakscope run must exit 0 and flag none of ground_truth's
# rust must_not_flag functions.
set -euo pipefail
source "$(dirname "$0")/run_demo_rust_lib.bash"

fixed_load() {
  local u=$1 f="?fixed=1"
  echo "$PACED $u/append-slice$f 3000 300 4 & $PACED $u/request-context$f 1500 150 &" \
    "$PACED $u/hanging-thread$f 200 20 & $PACED $u/open-file$f 300 30 &" \
    "$PACED $u/steady-cache 6000 500 8 & wait"
}

rust_demo_run fixed_load
python3 "$CHECK" "$WORK/out/report.json" "$TRUTH" rust --none
expect_no_leak "$DEMO_RC" "$WORK/out"
