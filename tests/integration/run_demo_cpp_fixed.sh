#!/usr/bin/env bash
# No false positives on the C++ demo's fixed variants and its steady cache: the same patterns,
# ?fixed=1, under load (the metric family of the fix, labelled by route, stays bounded), plus the
# LRU cache driven to fill in the first seconds and then churn at a flat size. leakscope run must
# exit 0 and flag none of ground_truth's must_not_flag functions nor the fixed metric.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
demo_run cpp fixed
expect_demo_fixed cpp
