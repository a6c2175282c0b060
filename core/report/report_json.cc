// report.json <-> Report, with nlohmann-json. Writing follows docs/report-schema.md key for key;
// reading accepts any leakscope.report/v1 document, ignores keys it does not know, and treats a
// missing or null optional as absent, so a report written by a newer v1 writer still loads.
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/report/report.h"

namespace leakscope::report {
namespace {

using analysis::Finding;
using nlohmann::json;

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json numbers(const std::vector<double>& v) {
  json a = json::array();
  for (double d : v) a.push_back(number_or_null(d));
  return a;
}

json frame_json(const Frame& f) {
  return json{{"function", f.function}, {"file", f.file}, {"line", f.line}};
}

// null until the catalogue has matched (an empty id); {"id": "none", ...} when nothing matched.
json pattern_json(const analysis::Pattern& p) {
  if (p.id.empty()) return json(nullptr);
  return json{{"id", p.id}, {"cause", p.cause}, {"fix", p.fix}, {"evidence", p.evidence}};
}

json finding_json(const Finding& f) {
  json stack = json::array();
  for (const Frame& fr : f.stack) stack.push_back(frame_json(fr));
  return json{
      {"kind", analysis::to_string(f.kind)},
      {"verdict", analysis::to_string(f.verdict)},
      {"site", frame_json(f.site)},
      {"stack", stack},
      {"metric", f.metric.empty() ? json(nullptr) : json(f.metric)},
      {"growth", number_or_null(f.growth)},
      {"unit", analysis::unit_of(f.kind)},
      {"growth_per_s", number_or_null(f.growth_per_s)},
      {"confidence", number_or_null(f.confidence)},
      {"evidence", f.evidence},
      {"series", json{{"t_s", numbers(f.t_s)}, {"values", numbers(f.values)}}},
      {"forecast_s_to_limit",
       f.forecast_s_to_limit ? number_or_null(*f.forecast_s_to_limit) : json(nullptr)},
      {"suppressed", f.suppressed},
      {"pattern", pattern_json(f.pattern)},
  };
}

json flame_json(const std::vector<FlameEntry>& entries) {
  json a = json::array();
  for (const FlameEntry& e : entries) a.push_back(json{{"stack", e.stack}, {"value", e.value}});
  return a;
}

// ---- reading -------------------------------------------------------------------------------

double num(const json& j, const char* key, double fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<double> read_numbers(const json& j) {
  std::vector<double> v;
  if (!j.is_array()) return v;
  for (const json& d : j) v.push_back(d.is_number() ? d.get<double>() : NAN);
  return v;
}

Frame read_frame(const json& j) {
  Frame f;
  if (!j.is_object()) return f;
  f.function = str(j, "function");
  f.file = str(j, "file");
  f.line = static_cast<int64_t>(num(j, "line"));
  return f;
}

Result<Finding> read_finding(const json& j, size_t index) {
  Finding f;
  auto where = "finding " + std::to_string(index);
  auto kind = analysis::signal_from_string(str(j, "kind"));
  if (!kind) return make_error(where + ": unknown kind '" + str(j, "kind") + "'");
  auto verdict = analysis::verdict_from_string(str(j, "verdict"));
  if (!verdict) return make_error(where + ": unknown verdict '" + str(j, "verdict") + "'");
  f.kind = *kind;
  f.verdict = *verdict;
  if (j.contains("site")) f.site = read_frame(j["site"]);
  if (j.contains("stack") && j["stack"].is_array())
    for (const json& fr : j["stack"]) f.stack.push_back(read_frame(fr));
  f.metric = str(j, "metric");
  f.growth = num(j, "growth", NAN);
  f.growth_per_s = num(j, "growth_per_s", NAN);
  f.confidence = num(j, "confidence", NAN);
  f.evidence = str(j, "evidence");
  if (j.contains("series") && j["series"].is_object()) {
    f.t_s = read_numbers(j["series"].value("t_s", json::array()));
    f.values = read_numbers(j["series"].value("values", json::array()));
  }
  if (j.contains("forecast_s_to_limit") && j["forecast_s_to_limit"].is_number())
    f.forecast_s_to_limit = j["forecast_s_to_limit"].get<double>();
  f.suppressed = j.value("suppressed", false);
  if (j.contains("pattern") && j["pattern"].is_object()) {
    const json& p = j["pattern"];
    f.pattern = analysis::Pattern{str(p, "id"), str(p, "cause"), str(p, "fix"), str(p, "evidence")};
  }
  return f;
}

std::vector<FlameEntry> read_flame(const json& j) {
  std::vector<FlameEntry> out;
  if (!j.is_array()) return out;
  for (const json& e : j) {
    FlameEntry fe;
    if (e.contains("stack") && e["stack"].is_array())
      for (const json& s : e["stack"])
        if (s.is_string()) fe.stack.push_back(s.get<std::string>());
    fe.value = static_cast<int64_t>(num(e, "value"));
    out.push_back(std::move(fe));
  }
  return out;
}

void read_target(const json& j, Target& t) {
  if (!j.is_object()) return;
  if (j.contains("command") && j["command"].is_array())
    for (const json& s : j["command"])
      if (s.is_string()) t.command.push_back(s.get<std::string>());
  if (j.contains("pid") && j["pid"].is_number()) t.pid = j["pid"].get<int64_t>();
  t.source = str(j, "source");
  if (j.contains("url") && j["url"].is_string()) t.url = j["url"].get<std::string>();
}

}  // namespace

std::string to_json(const Report& r) {
  json phases = json::array();
  for (const PhaseSpan& p : r.phases)
    phases.push_back(json{{"name", p.name}, {"start_s", p.start_s}, {"end_s", p.end_s}});
  json series = json{{"t_s", numbers(r.t_s)}};
  for (const auto& [key, values] : r.series) series[key] = numbers(values);
  json findings = json::array();
  for (const Finding& f : r.findings) findings.push_back(finding_json(f));
  json snapshots = json::array();
  for (const SnapshotRef& s : r.snapshots)
    snapshots.push_back(json{{"t_s", s.t_s}, {"phase", s.phase}, {"files", s.files}});
  json doc = {
      {"schema", kSchema},
      {"verdict", analysis::to_string(r.verdict)},
      {"summary", r.summary},
      {"target", json{{"command", r.target.command},
                      {"pid", r.target.pid ? json(*r.target.pid) : json(nullptr)},
                      {"source", r.target.source},
                      {"url", r.target.url ? json(*r.target.url) : json(nullptr)}}},
      {"started_at", r.started_at},
      {"duration_s", number_or_null(r.duration_s)},
      {"interval_s", number_or_null(r.interval_s)},
      {"limit_bytes", r.limit_bytes ? json(*r.limit_bytes) : json(nullptr)},
      {"limit_source", r.limit_source ? json(*r.limit_source) : json(nullptr)},
      {"phases", phases},
      {"series", series},
      {"findings", findings},
      {"flame", json{{"unit", r.flame.unit},
                     {"growth", flame_json(r.flame.growth)},
                     {"final", flame_json(r.flame.final)}}},
      {"snapshots", snapshots},
      {"notes", r.notes},
  };
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<Report> from_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("report.json: not a JSON object");
  std::string schema = str(j, "schema");
  if (schema != kSchema)
    return make_error("report.json: schema '" + schema + "', expected " + kSchema);
  Report r;
  auto verdict = analysis::verdict_from_string(str(j, "verdict"));
  if (!verdict) return make_error("report.json: unknown verdict '" + str(j, "verdict") + "'");
  r.verdict = *verdict;
  r.summary = str(j, "summary");
  if (j.contains("target")) read_target(j["target"], r.target);
  r.started_at = str(j, "started_at");
  r.duration_s = num(j, "duration_s");
  r.interval_s = num(j, "interval_s", 1);
  if (j.contains("limit_bytes") && j["limit_bytes"].is_number())
    r.limit_bytes = j["limit_bytes"].get<int64_t>();
  if (j.contains("limit_source") && j["limit_source"].is_string())
    r.limit_source = j["limit_source"].get<std::string>();
  for (const json& p : j.value("phases", json::array()))
    r.phases.push_back(PhaseSpan{str(p, "name"), num(p, "start_s"), num(p, "end_s")});
  if (j.contains("series") && j["series"].is_object())
    for (const auto& [key, values] : j["series"].items()) {
      if (key == "t_s")
        r.t_s = read_numbers(values);
      else
        r.series[key] = read_numbers(values);
    }
  size_t index = 0;
  for (const json& f : j.value("findings", json::array())) {
    auto finding = read_finding(f, index++);
    if (!finding) return finding.error().wrap("report.json");
    r.findings.push_back(std::move(*finding));
  }
  if (j.contains("flame") && j["flame"].is_object()) {
    const json& fl = j["flame"];
    r.flame.unit = fl.value("unit", std::string("bytes"));
    r.flame.growth = read_flame(fl.value("growth", json::array()));
    r.flame.final = read_flame(fl.value("final", json::array()));
  }
  for (const json& s : j.value("snapshots", json::array())) {
    SnapshotRef ref{num(s, "t_s"), str(s, "phase"), {}};
    if (s.contains("files") && s["files"].is_object())
      for (const auto& [k, v] : s["files"].items())
        if (v.is_string()) ref.files[k] = v.get<std::string>();
    r.snapshots.push_back(std::move(ref));
  }
  for (const json& n : j.value("notes", json::array()))
    if (n.is_string()) r.notes.push_back(n.get<std::string>());
  return r;
}

}  // namespace leakscope::report
