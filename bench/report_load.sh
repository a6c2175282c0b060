#!/usr/bin/env bash
# How fast the HTML report opens (BENCHMARKS.md, "The HTML report: size and load time"): renders
# the seeded 30-minute `watch` fixture (1,801 points per series, 15 findings, 400 growth and 1,500
# live-heap flame stacks) and, when given, a real run directory's report; opens each page RUNS
# times in Debian's headless Chromium (web/test/check_page.mjs --timings) and prints the load
# times, navigation start to every chart and flame graph drawn, with the machine's load average.
#
#   bench/report_load.sh [BUILD_DIR] [RUNS] [RUN_DIR...]      defaults: build 7
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-7}
shift $(($# < 2 ? $# : 2))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

time_page() {  # time_page NAME PAGE.html
  local line
  line=$(node web/test/check_page.mjs --html "$2" --screenshot "$work/shot.png" --timings "$runs" |
    grep '"load_ms"')
  python3 - "$1" "$line" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import json, sys
name, line, load = sys.argv[1:]
d = json.loads(line)
print(f"| {name} | {d['bytes'] / 1e6:.2f} MB | {d['median_ms']} ms"
      f" | {min(d['load_ms'])}-{max(d['load_ms'])} ms | {load} |")
PY
}

python3 tests/data/report/gen_report.py watch --duration 1800 --interval 1 >"$work/watch.json"
"$build/leakscope_render_report" "$work/watch.json" "$work/watch.html"
echo "report_load: $(date -u +%FT%RZ), $(nproc) CPUs, $runs loads per page"
echo
echo "| page | size | median load | range | load average |"
echo "| --- | --- | --- | --- | --- |"
time_page "30-minute watch, 1 s interval" "$work/watch.html"
for dir in "$@"; do
  time_page "$dir" "$dir/report.html"
done
