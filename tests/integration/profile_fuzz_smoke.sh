#!/usr/bin/env bash
# Fuzz smoke test: builds the libFuzzer pprof decoder (tests/fuzz/profile_decode_fuzz.cc) with
# clang-14, ASan and UBSan in a scratch build directory under $LEAKSCOPE_BUILD (reused when
# present), and fuzzes for ~20 s starting from a copy of the checked-in corpus. Any crash, leak,
# undefined behaviour, timeout or out-of-memory fails the test and prints the input.
# Longer runs: LEAKSCOPE_FUZZ_SECONDS=600 bash tests/integration/profile_fuzz_smoke.sh
# Skips (77) when clang-14 or its libFuzzer runtime is missing.
set -euo pipefail
src=${LEAKSCOPE_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LEAKSCOPE_BUILD:-$src/build}
seconds=${LEAKSCOPE_FUZZ_SECONDS:-20}
target=profile_decode

if ! command -v clang++-14 >/dev/null || ! command -v clang-14 >/dev/null; then
  echo "skip: clang-14 is not installed"
  exit 77
fi
if ! compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "skip: the libFuzzer runtime of clang-14 is not installed"
  exit 77
fi

dir="$build/fuzz-clang"
if [[ ! -f "$dir/build.ninja" ]]; then
  flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
    -DLEAKSCOPE_FUZZ=ON -DLEAKSCOPE_TESTS=ON -DLEAKSCOPE_BENCH=OFF >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; exit 1; }
fi
ninja -C "$dir" -j2 "${target}_fuzz" >"$dir.build.log" 2>&1 || { tail -n 50 "$dir.build.log"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp "$src/tests/fuzz/corpus/$target/"* "$work/corpus/"
seeds=("$work/corpus")
[[ -d "$src/tests/fuzz/regressions/$target" ]] && seeds+=("$src/tests/fuzz/regressions/$target")

status=0
timeout $((seconds + 120)) "$dir/${target}_fuzz" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "${seeds[@]}" >"$work/log" 2>&1 || status=$?
tail -n 25 "$work/log"
shopt -s nullglob
artifacts=("$work/artifacts/"*)
if [[ $status -ne 0 || ${#artifacts[@]} -ne 0 ]]; then
  echo "FAIL: the fuzzer exited with $status"
  for a in "${artifacts[@]}"; do
    echo "--- input $(basename "$a") ($(stat -c %s "$a") bytes), base64:"
    base64 -w 100 "$a" | head -c 20000
    echo
    echo "(keep it: save it as tests/fuzz/regressions/$target/<name> and fix the bug)"
  done
  exit 1
fi
echo "PASS: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" || true)"
