// Mann-Kendall and Theil-Sen on known series, and the false-positive rate of Mann-Kendall on
// pure noise. Statistical tests use a fixed seed, so they are deterministic; the bounds are set
// so that a correct implementation would fail them with probability below 1e-6 for any seed.
#include "core/analysis/trend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace leakscope::analysis {
namespace {

TEST(MannKendall, StrictlyIncreasingIsSignificant) {
  std::vector<double> x;
  for (int i = 0; i < 20; ++i) x.push_back(i);
  MannKendall mk = mann_kendall(x);
  EXPECT_EQ(mk.s, 190);  // every one of the 20*19/2 pairs rises
  EXPECT_NEAR(mk.var, 20.0 * 19 * 45 / 18, 1e-9);
  EXPECT_LT(mk.p, 1e-6);
}

TEST(MannKendall, FlatSeriesHasNoTrend) {
  std::vector<double> x(30, 42.0);
  MannKendall mk = mann_kendall(x);
  EXPECT_EQ(mk.s, 0);
  EXPECT_EQ(mk.var, 0);
  EXPECT_EQ(mk.p, 1);
}

TEST(MannKendall, DecreasingHasLargeP) {
  std::vector<double> x;
  for (int i = 0; i < 10; ++i) x.push_back(-i);
  EXPECT_GT(mann_kendall(x).p, 0.99);
}

TEST(MannKendall, TiesReduceVariance) {
  // Known value: n=6 with groups of 2 ties: Var = (6*5*17 - 3*(2*1*9)) / 18 = 25.333...
  std::vector<double> x = {1, 1, 2, 2, 3, 3};
  MannKendall mk = mann_kendall(x);
  EXPECT_EQ(mk.s, 12);
  EXPECT_NEAR(mk.var, (6.0 * 5 * 17 - 3 * 18) / 18, 1e-9);
}

TEST(MannKendall, SkipsNaN) {
  std::vector<double> x = {1, NAN, 2, 3, NAN, 4};
  EXPECT_EQ(mann_kendall(x).s, 6);
}

TEST(MannKendall, TooShortIsNeverSignificant) {
  std::vector<double> x = {1, 2};
  EXPECT_EQ(mann_kendall(x).p, 1);
}

// The false-positive rate on pure noise: i.i.d. normal series of 30 points. At alpha = 1e-3 the
// expected count over 20,000 series is 20 (the normal approximation is slightly conservative);
// Poisson(20) exceeds 45 with probability < 1e-6. At alpha = 0.05 the expected count is 1,000;
// the bound 1,150 is > 4.8 sigma away.
TEST(MannKendall, FalsePositiveRateOnNoiseMatchesAlpha) {
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> noise(1000, 50);
  int strict = 0, loose = 0;
  for (int series = 0; series < 20000; ++series) {
    std::vector<double> x(30);
    for (double& v : x) v = noise(rng);
    double p = mann_kendall(x).p;
    strict += p < 1e-3;
    loose += p < 0.05;
  }
  EXPECT_LE(strict, 45);
  EXPECT_LE(loose, 1150);
  EXPECT_GE(loose, 850);  // and the test is not simply blind
}

TEST(TheilSen, ExactLine) {
  std::vector<double> t, x;
  for (int i = 0; i < 10; ++i) {
    t.push_back(i * 0.5);
    x.push_back(3 + 2 * i * 0.5);
  }
  EXPECT_NEAR(theil_sen_slope(t, x), 2.0, 1e-12);
}

TEST(TheilSen, IgnoresOutliers) {
  std::vector<double> t, x;
  for (int i = 0; i < 20; ++i) {
    t.push_back(i);
    x.push_back(10.0 * i);
  }
  x[3] = 1e9;  // two wild snapshots
  x[15] = -1e9;
  EXPECT_NEAR(theil_sen_slope(t, x), 10.0, 0.5);
}

TEST(TheilSen, ThinsLongSeries) {
  std::vector<double> t, x;
  for (int i = 0; i < 5000; ++i) {
    t.push_back(i);
    x.push_back(7.0 * i);
  }
  EXPECT_NEAR(theil_sen_slope(t, x), 7.0, 1e-9);
}

TEST(Median, EvenOddAndNaN) {
  std::vector<double> odd = {3, 1, 2};
  std::vector<double> even = {4, 1, 3, 2};
  std::vector<double> none = {NAN};
  EXPECT_EQ(median(odd), 2);
  EXPECT_EQ(median(even), 2.5);
  EXPECT_TRUE(std::isnan(median(none)));
}

}  // namespace
}  // namespace leakscope::analysis
