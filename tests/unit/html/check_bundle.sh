#!/usr/bin/env bash
# Rebuilds the report page's bundle from web/src and compares it with the checked-in web/dist,
# which is what the leakscope binary embeds. Run by ctest as html_bundle_fresh (tests/unit/html/CMakeLists.txt).
#   check_bundle.sh NODE WEB_DIR SCRATCH_DIR
set -euo pipefail
node=$1 web=$2 scratch=$3
rm -rf "$scratch"
"$node" "$web/build.mjs" --outdir "$scratch"
stale=0
for f in report.js report.css; do
  if ! cmp -s "$scratch/$f" "$web/dist/$f"; then
    echo "web/dist/$f does not match web/src: run 'cmake --build build --target html_bundle' and commit web/dist" >&2
    stale=1
  fi
done
exit $stale
