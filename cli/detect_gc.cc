// See detect_gc.h.
#include "cli/detect_gc.h"

#include <charconv>
#include <cstdio>

namespace leakscope::cli {

std::optional<int> parse_gc(const std::string& text) {
  if (text == "never") return 0;
  if (text == "each") return 1;
  std::string n = text;
  if (n.rfind("every", 0) == 0) {
    n = n.substr(5);
    if (!n.empty() && (n[0] == ' ' || n[0] == '=')) n = n.substr(1);
  }
  int v = 0;
  auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
  if (ec != std::errc() || end != n.data() + n.size() || n.empty() || v < 1) return std::nullopt;
  return v;
}

std::string gc_words(int every) {
  if (every <= 0) return "never";
  if (every == 1) return "each";
  return "every=" + std::to_string(every);
}

std::string gc_path(const std::string& path, int every, size_t index) {
  static const std::string kGc = "?gc=1";
  bool forces = path.size() >= kGc.size() && path.ends_with(kGc);
  if (!forces || (every > 0 && index % static_cast<size_t>(every) == 0)) return path;
  return path.substr(0, path.size() - kGc.size());
}

std::string gc_note(int every, double interval_s) {
  char period[32];
  std::snprintf(period, sizeof period, "%g", interval_s * every);
  if (every <= 0)
    return "Go heap: no GC forced (--gc never): each heap snapshot is as of the service's own "
           "last GC cycle, which may lag";
  return std::string("Go heap: a GC forced (?gc=1) ") +
         (every == 1 ? "at every snapshot" : "at every " + std::to_string(every) + "th snapshot") +
         ", one every " + period + " s (--gc " + gc_words(every) + ")";
}

}  // namespace leakscope::cli
