// Mann-Kendall and Theil-Sen, as in Hipel & McLeod, "Time Series Modelling of Water Resources"
// (1994), ch. 23, and Sen (1968).
//
// Mann-Kendall: S = sum_{i<j} sign(x_j - x_i). Under H0 (the x are exchangeable: no trend) S has
// mean 0 and variance
//     Var(S) = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18
// where t_g is the size of the g-th group of tied values. Ties matter here: a steady heap site
// sampled at a fixed rate repeats the same estimate snapshot after snapshot, and a flat series
// must score S = 0, Var = 0, p = 1, not a spurious trend. With the continuity correction
// Z = (S - sgn S) / sqrt(Var), the one-sided p-value P(Z > z) is accurate to about 1e-3 from
// n = 10 on; for shorter series it is conservative or close (n >= 4 is what callers require).
//
// Theil-Sen: the median pairwise slope. It tolerates up to 29% arbitrary outliers and is the
// natural rate estimate to pair with Mann-Kendall (both rank pairs of points).
#include "core/analysis/trend.h"

#include <algorithm>
#include <cmath>

namespace leakscope::analysis {
namespace {

struct Points {
  std::vector<double> t;
  std::vector<double> x;
};

// The non-NaN points, thinned to at most `max_points` evenly spaced ones.
Points finite_points(std::span<const double> t, std::span<const double> x, size_t max_points) {
  Points all;
  for (size_t i = 0; i < x.size() && i < t.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(t[i])) continue;
    all.t.push_back(t[i]);
    all.x.push_back(x[i]);
  }
  if (all.x.size() <= max_points) return all;
  Points thin;
  double step = static_cast<double>(all.x.size() - 1) / static_cast<double>(max_points - 1);
  for (size_t k = 0; k < max_points; ++k) {
    size_t i = static_cast<size_t>(std::llround(static_cast<double>(k) * step));
    thin.t.push_back(all.t[i]);
    thin.x.push_back(all.x[i]);
  }
  return thin;
}

}  // namespace

double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

double median(std::span<const double> x) {
  std::vector<double> v;
  for (double d : x)
    if (!std::isnan(d)) v.push_back(d);
  if (v.empty()) return NAN;
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(mid), v.end());
  double hi = v[mid];
  if (v.size() % 2) return hi;
  double lo = *std::max_element(v.begin(), v.begin() + static_cast<long>(mid));
  return (lo + hi) / 2;
}

MannKendall mann_kendall(std::span<const double> x) {
  std::vector<double> v;
  for (double d : x)
    if (!std::isnan(d)) v.push_back(d);
  MannKendall r;
  const double n = static_cast<double>(v.size());
  if (v.size() < 3) return r;
  for (size_t i = 0; i < v.size(); ++i)
    for (size_t j = i + 1; j < v.size(); ++j) r.s += (v[j] > v[i]) - (v[j] < v[i]);
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  double ties = 0;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    double g = static_cast<double>(j - i);
    ties += g * (g - 1) * (2 * g + 5);
    i = j;
  }
  r.var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0;
  if (r.var <= 0) return r;
  if (r.s > 0) r.z = (r.s - 1) / std::sqrt(r.var);
  if (r.s < 0) r.z = (r.s + 1) / std::sqrt(r.var);
  r.p = normal_sf(r.z);
  return r;
}

double theil_sen_slope(std::span<const double> t, std::span<const double> x) {
  Points p = finite_points(t, x, 400);
  std::vector<double> slopes;
  slopes.reserve(p.x.size() * p.x.size() / 2);
  for (size_t i = 0; i < p.x.size(); ++i)
    for (size_t j = i + 1; j < p.x.size(); ++j)
      if (p.t[j] > p.t[i]) slopes.push_back((p.x[j] - p.x[i]) / (p.t[j] - p.t[i]));
  if (slopes.empty()) return 0;
  return median(slopes);
}

}  // namespace leakscope::analysis
