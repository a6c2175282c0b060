// Robust trend statistics for short, noisy, tied series: the Mann-Kendall test (is there a
// monotonic upward trend?) and the Theil-Sen estimator (how steep is it?). Both are rank/median
// based, so one outlier snapshot (a GC that ran late, a scrape that caught a burst) cannot make or
// break a verdict, and neither assumes normal noise. See trend.cc for the formulas.
#pragma once

#include <span>
#include <vector>

namespace leakscope::analysis {

struct MannKendall {
  double s = 0;    // sum over i<j of sign(x[j] - x[i])
  double var = 0;  // variance of S under H0 (no trend), with the tie correction
  double z = 0;    // continuity-corrected normal score
  double p = 1;    // one-sided p-value for an upward trend (1 when n < 3)
};

// Mann-Kendall on x in time order. NaN entries (missed snapshots) are skipped.
MannKendall mann_kendall(std::span<const double> x);

// Theil-Sen slope: the median of the pairwise slopes (x[j]-x[i])/(t[j]-t[i]) over i<j with
// t[j] > t[i]. NaN entries are skipped; 0 with fewer than 2 points. Long series are thinned to
// at most 400 evenly spaced points first (the estimator's breakdown point is unchanged).
double theil_sen_slope(std::span<const double> t, std::span<const double> x);

// Median of the non-NaN values; NaN when there are none.
double median(std::span<const double> x);

// One-sided upper tail of the standard normal, P(Z > z).
double normal_sf(double z);

}  // namespace leakscope::analysis
