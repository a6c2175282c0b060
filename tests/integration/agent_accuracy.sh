#!/usr/bin/env bash
# Accuracy of the heap profile against known sites (tests/agent/accuracy_sites.c):
# 40 MiB live in 4 KiB blocks, 8 MiB live in 256-byte blocks, 8 MiB live in 1 MiB blocks, 1 GiB
# allocated and freed.
#
# Rate 1 (every allocation): inuse_space per site and the churn's alloc_space are exact.
#
# Default rate (524288): one snapshot of 40 MiB holds ~80 samples, so its estimate has a
# relative standard deviation of ~11% (8 MiB: ~16 samples, ~25%); no unbiased sampler at this
# rate can put a single snapshot within 10% reliably. The program therefore repeats the
# experiment for 250 independent rounds (one dump per round) and the test checks the mean, each
# figure at 6 standard deviations or more (relative sd of n samples of weight s/p: sqrt((1-p)/n')
# with n' = n p the expected samples):
#   4 KiB site:  ~20000 samples, sd 0.7%  -> 10% is 14 sd
#   256 B site:  ~4000 samples,  sd 1.6%  -> 10% is 6.3 sd (two-sided p ~ 3e-10)
#   churn alloc_space, cumulative, in the last round: 250 GiB, ~480000 samples, sd 0.14% -> 10%
#   is 70 sd
# False-failure rate of the whole test: about 3e-10 per run (it was 1e-4 at 100 rounds, the
# 256 B site at 4 sd and the churn's first round alone at 4.5 sd).
# Blocks of the rate or more are always sampled with weight 1 (agent/heap/sampler.h), so the 1 MiB
# site is exact in every round at the default rate too (Go's rule alone would give 5.8-9.2 MiB).
set -euo pipefail
BUILD=${LEAKSCOPE_BUILD:?set by ctest}
PROG=$BUILD/agent_accuracy_sites
CHECK=$BUILD/agent_profile_sites
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

SITES=$(nm -S "$PROG" | awk '$4 ~ /^site_/ {printf "--site %s:%s:%s ", $4, $1, $2}')
[[ $SITES == *site_keep_4k* && $SITES == *site_churn_1g* ]] || { echo "FAIL: no sites in nm"; exit 1; }
USR2=$(kill -l USR2)

run() {  # run RATE ROUNDS DIR
  mkdir -p "$3"
  # env, not a plain assignment: timeout itself must not load the agent (which would strip
  # itself from LD_PRELOAD before exec'ing the program).
  # LEAKSCOPE_DUMP_KEEP=0: every round is read, not only the last 10.
  # LEAKSCOPE_MAX_SAMPLES_PER_SEC=0: this test is the sampler at a fixed rate (its sizing and the
  # exact 1 MiB site need it; the churn's malloc/free of 64 KiB blocks, untouched, runs at
  # terabytes per CPU second and would engage the sample budget even at 512 KiB). Accuracy with
  # the budget engaged is agent_budget_accuracy.sh.
  timeout 120 env LD_PRELOAD="$BUILD/libleakscope.so" LEAKSCOPE_RATE="$1" \
    LEAKSCOPE_MAX_SAMPLES_PER_SEC=0 LEAKSCOPE_DUMP_DIR="$3" LEAKSCOPE_DUMP_KEEP=0 \
    LEAKSCOPE_DUMP_SIGNAL=USR2 "$PROG" "$2" "$3" "$USR2"
}

echo "== rate 1: exact"
run 1 1 "$TMP/exact"
# shellcheck disable=SC2086
"$CHECK" $SITES --expect site_keep_4k:inuse_space:41943040:0 \
  --expect site_keep_256:inuse_space:8388608:0 \
  --expect site_keep_4k:inuse_objects:10240:0 \
  --expect site_keep_1m:inuse_space:8388608:0 \
  --expect site_churn_1g:alloc_space:1073741824:0 \
  --expect site_churn_1g:inuse_space:0:0 "$TMP"/exact/heap.*.pb.gz

echo "== default rate: mean of 250 rounds within 10%"
run 524288 250 "$TMP/sampled"
# shellcheck disable=SC2086
"$CHECK" $SITES --expect site_keep_4k:inuse_space:41943040:0.1 \
  --expect site_keep_256:inuse_space:8388608:0.1 \
  --expect site_churn_1g:inuse_space:0:0 "$TMP"/sampled/heap.*.pb.gz
# shellcheck disable=SC2086
for f in "$TMP"/sampled/heap.*.pb.gz; do  # exact in every round, not only on average
  "$CHECK" $SITES --expect site_keep_1m:inuse_space:8388608:0 \
    --expect site_keep_1m:inuse_objects:8:0 "$f" >/dev/null
done
# shellcheck disable=SC2086
"$CHECK" $SITES --expect site_churn_1g:alloc_space:268435456000:0.1 "$TMP"/sampled/heap.*.0250.pb.gz
echo PASS
