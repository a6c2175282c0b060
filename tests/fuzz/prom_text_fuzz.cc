// Fuzzes the Prometheus text parser on any bytes: it must never crash, hang or read out of
// bounds, and what it returns must keep its invariants (names non-empty, series counts between 0
// and the limit, their sum within the limit), under tight limits too.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/metrics/prom_text.h"

using namespace leakscope::metrics;

namespace {

void check(std::string_view text, const ParseLimits& limits) {
  auto r = parse_prom_text(text, limits);
  if (!r) {
    if (r.error().message.empty()) std::abort();
    return;
  }
  int64_t total = 0;
  for (const Family& f : *r) {
    if (f.name.empty() || f.series < 0) std::abort();
    total += f.series;
  }
  if (total > limits.max_series) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check(text, ParseLimits{});
  check(text, ParseLimits{64, 3});
  return 0;
}
