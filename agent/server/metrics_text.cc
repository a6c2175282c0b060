// The Prometheus text writer (see metrics_text.h for the format's rules).
#include "agent/server/metrics_text.h"

namespace leakscope::agent {

namespace {

std::string escape(const std::string& s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string MetricsText::escape_help(const std::string& s) { return escape(s, false); }

std::string MetricsText::escape_label_value(const std::string& s) { return escape(s, true); }

void MetricsText::family(const char* name, const char* type, const char* help) {
  name_ = name;
  out_ += "# HELP " + name_ + " " + escape_help(help) + "\n";
  out_ += "# TYPE " + name_ + " " + type + "\n";
}

void MetricsText::sample(int64_t value) { out_ += name_ + " " + std::to_string(value) + "\n"; }

void MetricsText::sample(const char* key, const char* value, int64_t v) {
  out_ += name_ + "{" + key + "=\"" + escape_label_value(value) + "\"} " + std::to_string(v) + "\n";
}

}  // namespace leakscope::agent
