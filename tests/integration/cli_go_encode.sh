#!/usr/bin/env bash
# Must show: our encoder's output opens in `go tool pprof` with identical numbers. A Go heap
# profile is decoded and re-encoded by leakscope (`top --write-profile`), and go tool pprof
# prints the same -raw dump (every sample, location, mapping and function, ids included) and
# the same -top table for the original and the copy.
set -euo pipefail
source "$LEAKSCOPE_SOURCE/tests/go/profgen/profgen.sh"
profgen_session
profgen_load 20
profgen_heap "$work/heap.pb.gz"
profgen_fetch "debug/pprof/goroutine" "$work/goroutine.pb.gz"

for profile in heap goroutine; do
  original="$work/$profile.pb.gz" copy="$work/$profile.copy.pb.gz"
  "$leakscope" top --write-profile "$copy" "$original" >/dev/null
  [[ -s "$copy" ]] || { echo "FAIL: no $copy"; exit 1; }
  # Ours is gzip'd, as profile.proto asks for files on disk.
  [[ $(head -c 2 "$copy" | od -An -tx1 | tr -d ' ') == 1f8b ]] || { echo "FAIL: not gzip"; exit 1; }
  go tool pprof -raw -symbolize=none "$original" >"$work/a.raw" 2>&1
  go tool pprof -raw -symbolize=none "$copy" >"$work/b.raw" 2>&1
  grep -q '^Samples:' "$work/b.raw" || { cat "$work/b.raw"; echo "FAIL: pprof cannot read it"; exit 1; }
  diff "$work/a.raw" "$work/b.raw" || { echo "FAIL: $profile: -raw differs"; exit 1; }
  for index in $(sed -n '/^Samples:/{n;p;q}' "$work/a.raw"); do
    type=${index%/*}
    diff <(go tool pprof -top -unit=B -nodefraction=0 -symbolize=none -sample_index="$type" \
      "$original" 2>&1) \
      <(go tool pprof -top -unit=B -nodefraction=0 -symbolize=none -sample_index="$type" \
        "$copy" 2>&1) || { echo "FAIL: $profile $type: -top differs"; exit 1; }
  done
  echo "ok: $profile: $(grep -c ': ' "$work/b.raw") lines of -raw identical"
done
echo "PASS"
