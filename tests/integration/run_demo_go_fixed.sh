#!/usr/bin/env bash
# No false positives on the Go demo's fixed variants and steady cache, through net/http/pprof
# and /metrics.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
demo_run go fixed
expect_demo_fixed go
