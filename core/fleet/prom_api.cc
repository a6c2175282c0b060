// See prom_api.h.
#include "core/fleet/prom_api.h"

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace leakscope::fleet {
namespace {

using nlohmann::json;

Result<json> envelope(const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return make_error("not a Prometheus API answer");
  if (doc.value("status", "") != "success") {
    std::string type = doc.value("errorType", "error");
    return make_error(type + ": " + doc.value("error", "(no message)"));
  }
  if (!doc.contains("data")) return make_error("Prometheus answer without data");
  return std::move(doc["data"]);
}

double number(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return std::strtod(v.get_ref<const std::string&>().c_str(), nullptr);
  return NAN;
}

void add_point(Series& s, const json& pair) {
  if (!pair.is_array() || pair.size() != 2) return;
  s.t.push_back(number(pair[0]));
  s.x.push_back(number(pair[1]));
}

}  // namespace

Result<std::vector<PromSeries>> parse_query(const std::string& body) {
  auto data = envelope(body);
  if (!data) return data.error();
  std::string type = data->value("resultType", "");
  const json& result = (*data)["result"];
  std::vector<PromSeries> out;
  if (type == "scalar") {
    PromSeries s;
    add_point(s.values, result);
    out.push_back(std::move(s));
    return out;
  }
  if (!result.is_array()) return make_error("Prometheus answer: result is not a list");
  out.reserve(result.size());
  for (const json& r : result) {
    PromSeries s;
    if (r.contains("metric") && r["metric"].is_object())
      for (auto& [k, v] : r["metric"].items())
        if (v.is_string()) s.labels[k] = v.get<std::string>();
    if (r.contains("values") && r["values"].is_array()) {
      s.values.t.reserve(r["values"].size());
      s.values.x.reserve(r["values"].size());
      for (const json& p : r["values"]) add_point(s.values, p);
    } else if (r.contains("value")) {
      add_point(s.values, r["value"]);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<std::string>> parse_strings(const std::string& body) {
  auto data = envelope(body);
  if (!data) return data.error();
  std::vector<std::string> out;
  if (!data->is_array()) return make_error("Prometheus answer: data is not a list");
  for (const json& v : *data)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> parse_tsdb_status(const std::string& body) {
  auto data = envelope(body);
  if (!data) return data.error();
  std::vector<std::pair<std::string, int64_t>> out;
  if (!data->contains("seriesCountByMetricName")) return out;
  for (const json& e : (*data)["seriesCountByMetricName"])
    if (e.is_object() && e.contains("name") && e.contains("value"))
      out.emplace_back(e["name"].get<std::string>(), int64_t(number(e["value"])));
  return out;
}

std::optional<double> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
      ++j;
    if (j == i) return std::nullopt;
    double v = std::strtod(text.substr(i, j - i).c_str(), nullptr);
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    std::string u = text.substr(j, k - j);
    double m = u.empty() || u == "s" ? 1
               : u == "ms"           ? 0.001
               : u == "m"            ? 60
               : u == "h"            ? 3600
               : u == "d"            ? 86400
               : u == "w"            ? 604800
                                     : -1;
    if (m < 0) return std::nullopt;
    if (u.empty() && k != text.size()) return std::nullopt;
    total += v * m;
    i = k;
  }
  if (total <= 0) return std::nullopt;
  return total;
}

std::string with_selector(const std::string& name, const std::string& selector) {
  return selector.empty() ? name : name + selector;
}

}  // namespace leakscope::fleet
