#!/usr/bin/env bash
# Offline top on a large profile, leakscope against go tool pprof, in one run (BENCHMARKS.md,
# "Offline: decoding and `top` on a large profile").
#
#   bench/top_vs_pprof.sh [BUILD_DIR] [RUNS] [SIZE_MB]      defaults: build 5 50
#
# Generates the synthetic heap profile (bench/top_gen_profile.cc: ~SIZE_MB MB of uncompressed
# protobuf, 3000 functions, ~700k stacks 12-40 deep, a "bytes" label per sample as Go writes),
# then alternates `leakscope top` and `go tool pprof -top -symbolize=none` on the same file,
# RUNS times each (decode + report, output to /dev/null), and prints the median wall and CPU
# (user+sys) seconds of each and their ratios. Alternating spreads the machine's noise over both.
set -euo pipefail
build=${1:-build}
runs=${2:-5}
size=${3:-50}
leakscope="$build/leakscope"
command -v go >/dev/null || { echo "go is not installed" >&2; exit 1; }
[[ -x "$leakscope" && -x "$build/top_gen_profile" ]] ||
  { echo "build leakscope and top_gen_profile in $build first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
profile="$work/heap_${size}mb.pb"
"$build/top_gen_profile" "$profile" "$size"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# timed NAME CMD...: appends "wall cpu" seconds of one run to $work/NAME.
timed() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$work/t" "$@" >/dev/null 2>"$work/err" ||
    { cat "$work/err" >&2; exit 1; }
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$work/t" >>"$work/$name"
}

for ((i = 1; i <= runs; i++)); do
  timed leakscope "$leakscope" top "$profile"
  timed pprof go tool pprof -top -symbolize=none "$profile"
  echo "run $i/$runs: leakscope $(tail -1 "$work/leakscope"), pprof $(tail -1 "$work/pprof") (wall cpu s)" >&2
done

lw=$(awk '{print $1}' "$work/leakscope" | median) lc=$(awk '{print $2}' "$work/leakscope" | median)
pw=$(awk '{print $1}' "$work/pprof" | median) pc=$(awk '{print $2}' "$work/pprof" | median)
echo "profile: $(stat -c %s "$profile") bytes uncompressed; $runs runs each, alternating"
echo "| tool | median wall s | median CPU s |"
echo "| --- | --- | --- |"
echo "| leakscope top | $lw | $lc |"
echo "| go tool pprof -top | $pw | $pc |"
awk -v lw="$lw" -v pw="$pw" -v lc="$lc" -v pc="$pc" \
  'BEGIN {printf "| ratio pprof / leakscope | %.1fx | %.1fx |\n", pw / lw, pc / lc}'
