// ln() and exp() without libm: the agent may link only libc, libpthread, libdl, libz and
// libgcc_s. Both are accurate to ~1e-12 relative, far below the sampling noise they feed.
#pragma once

#include <cstdint>
#include <cstring>

namespace leakscope::agent {

// Natural log of x > 0: x = m * 2^e with m in [1, 2), ln(m) = 2 atanh((m - 1) / (m + 1)).
inline double fast_ln(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof(bits));
  int e = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  bits = (bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1023} << 52);
  double m;
  memcpy(&m, &bits, sizeof(m));
  if (m > 1.4142135623730951) {  // keep z small: m in [0.707, 1.414)
    m *= 0.5;
    ++e;
  }
  double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
  for (int k = 1; k < 30; k += 2) {
    sum += term / k;
    term *= z2;
  }
  return 2 * sum + e * 0.6931471805599453;
}

// e^x for x <= 0 (the only use: exp(-size / rate)); x = k ln2 + r, |r| <= ln2 / 2.
inline double fast_exp_neg(double x) {
  if (x < -700) return 0;
  int k = static_cast<int>(x / 0.6931471805599453 - 0.5);
  double r = x - k * 0.6931471805599453, term = 1, sum = 1;
  for (int i = 1; i < 20; ++i) {
    term *= r / i;
    sum += term;
  }
  uint64_t bits = static_cast<uint64_t>(k + 1023) << 52;
  double scale;
  memcpy(&scale, &bits, sizeof(scale));
  return sum * scale;
}

// Go's unbiasing weight for one sampled object of `size` bytes at mean sampling distance
// `rate` (runtime/pprof scaleHeapSample): an object of size S is sampled with probability
// 1 - exp(-S / rate), so it stands for 1 / (1 - exp(-S / rate)) objects. Rate 1: weight 1.
// Objects of `rate` bytes or more are always sampled (sampler.h), so they stand for themselves.
inline double sample_weight(int64_t size, int64_t rate) {
  if (rate <= 1 || size >= rate) return 1;
  if (size <= 0) size = 1;
  double p = 1 - fast_exp_neg(-static_cast<double>(size) / static_cast<double>(rate));
  return p > 0 ? 1 / p : 1;
}

}  // namespace leakscope::agent
