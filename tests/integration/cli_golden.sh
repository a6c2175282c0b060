#!/usr/bin/env bash
# top and diff on profiles kept in the repo (tests/data/cli: Go heap and goroutine profiles from
# tests/go/profgen, built with -trimpath), against golden outputs named after the flags that
# made them (pprof's habit): <profile>.top[.<flags>] and <base>.<new>.diff[.json].
# cli_go_top.sh checks the same numbers against go tool pprof on fresh profiles; this one keeps
# the output format from drifting, without Go. LEAKSCOPE_UPDATE_GOLDEN=1 rewrites the goldens.
set -euo pipefail
leakscope="$LEAKSCOPE_BUILD/leakscope"
cd "$LEAKSCOPE_SOURCE/tests/data/cli"

declare -A cases=(
  [go_heap_1.top]="top go_heap_1.pb.gz"
  [go_heap_1.top.cum.n5]="top --cum -n 5 go_heap_1.pb.gz"
  [go_heap_1.top.json.alloc_space]="top --json --sample-type alloc_space go_heap_1.pb.gz"
  [go_goroutine.top.n0]="top -n 0 go_goroutine.pb.gz"
  [go_heap_0.go_heap_1.diff]="diff go_heap_0.pb.gz go_heap_1.pb.gz"
  [go_heap_0.go_heap_1.diff.json]="diff --json go_heap_0.pb.gz go_heap_1.pb.gz"
)
failed=0
for golden in $(printf '%s\n' "${!cases[@]}" | sort); do
  read -ra args <<<"${cases[$golden]}"
  if [[ ${LEAKSCOPE_UPDATE_GOLDEN:-0} == 1 ]]; then
    "$leakscope" "${args[@]}" >"$golden"
    echo "updated: $golden"
  elif diff -u "$golden" <("$leakscope" "${args[@]}"); then
    echo "ok: leakscope ${args[*]}"
  else
    echo "FAIL: leakscope ${args[*]} differs from $golden"
    failed=1
  fi
done
[[ $failed -eq 0 ]] && echo "PASS"
exit $failed
