// The agent may not depend on libm (allowed: libc, libpthread, libdl, libz, libgcc_s), but the
// profile codec it links statically uses round() (profile_ops.cc, scale()). This hidden
// definition satisfies that reference inside the library, so libm.so is never NEEDED (checked
// by tests/integration/agent_linkage.sh). Round half away from zero, as C's round().
extern "C" __attribute__((visibility("hidden"))) double leakscope_round(double x) __asm__("round");

extern "C" double leakscope_round(double x) {
  if (!(x > -4503599627370496.0 && x < 4503599627370496.0)) return x;  // |x| >= 2^52, or NaN
  double t = static_cast<double>(static_cast<long long>(x));
  if (x >= 0 && x - t >= 0.5) return t + 1;
  if (x < 0 && t - x >= 0.5) return t - 1;
  return t;
}
