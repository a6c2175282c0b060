// Prometheus text exposition format 0.0.4, written: the body of the agent's /metrics.
//
// The format (prometheus.io/docs/instrumenting/exposition_formats): one family after another,
// each opened by "# HELP name text" and "# TYPE name gauge|counter", then its samples, one a line,
// "name{key="value",...} value". Every sample of a family must follow its TYPE line without
// another family in between, so the writer takes a family, then its samples, and never goes back.
// Escapes: in HELP text a backslash and a newline; in label values those and a double quote. The
// body ends with a newline (Prometheus rejects a last line without one). Counters are named with
// their "_total" suffix in the family name too, as 0.0.4 wants (OpenMetrics would drop it there).
//
// Pure (no agent state, no hooks): the unit tests use it alone. Allocates through std::string,
// so the agent calls it only on its own thread, under the ReentryGuard.
#pragma once

#include <cstdint>
#include <string>

namespace leakscope::agent {

class MetricsText {
 public:
  // Starts a family. `type` is "gauge" or "counter"; `name` must match [a-zA-Z_:][a-zA-Z0-9_:]*
  // (the agent's names are literals, checked by the tests, not at run time).
  void family(const char* name, const char* type, const char* help);
  // A sample of the current family, without labels or with one label.
  void sample(int64_t value);
  void sample(const char* key, const char* value, int64_t v);
  // The body so far (ends with a newline once anything was written).
  const std::string& text() const { return out_; }

  // The escapes of the format, exposed for the tests.
  static std::string escape_help(const std::string& s);
  static std::string escape_label_value(const std::string& s);

 private:
  std::string name_;
  std::string out_;
};

// The Content-Type a Prometheus server expects for this format.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace leakscope::agent
