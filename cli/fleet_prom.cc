// See fleet_prom.h.
#include "cli/fleet_prom.h"

#include <httplib.h>

#include <cmath>
#include <future>
#include <map>

namespace leakscope::cli {
namespace {

std::string encode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string all_series(const std::string& selector) {
  return selector.empty() ? "{__name__=~\".+\"}" : selector;
}

fleet::InstanceData& slot(std::map<std::string, fleet::InstanceData>& by,
                          const fleet::PromSeries& s) {
  auto it = s.labels.find("instance");
  std::string instance = it == s.labels.end() ? "" : it->second;
  fleet::InstanceData& d = by[instance];
  d.instance = instance;
  if (auto j = s.labels.find("job"); j != s.labels.end()) d.job = j->second;
  return d;
}

}  // namespace

Prometheus::Prometheus(Url url) : url_(std::move(url)) {
  client_ = std::make_unique<httplib::Client>(url_.host, url_.port);
  client_->set_connection_timeout(5, 0);
  client_->set_read_timeout(120, 0);
  client_->set_keep_alive(true);
}

Prometheus::~Prometheus() = default;

Result<std::string> Prometheus::api(
    const std::string& endpoint, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string path = url_.prefix + "/api/v1/" + endpoint;
  for (size_t i = 0; i < params.size(); ++i)
    path += (i ? "&" : "?") + params[i].first + "=" + encode(params[i].second);
  auto res = client_->Get(path.c_str());
  if (!res)
    return make_error("cannot reach Prometheus at " + url_.text() + ": " +
                      (res.error() == httplib::Error::Connection
                           ? std::string("connection refused or host unreachable")
                           : httplib::to_string(res.error())));
  // Prometheus answers 400/422/503 with a JSON error body: keep it for its message.
  if (res->status != 200 && res->body.find("\"status\"") == std::string::npos)
    return make_error("Prometheus at " + url_.text() + ": HTTP " + std::to_string(res->status));
  return std::move(res->body);
}

Result<std::vector<fleet::PromSeries>> Prometheus::query(const std::string& promql, double at) {
  auto body = api("query", {{"query", promql}, {"time", num(at)}});
  if (!body) return body.error();
  auto r = fleet::parse_query(*body);
  if (!r) return r.error().wrap("Prometheus rejected '" + promql + "'");
  return r;
}

Result<std::vector<fleet::PromSeries>> Prometheus::query_range(const std::string& promql,
                                                               double start, double end,
                                                               double step) {
  auto body =
      api("query_range",
          {{"query", promql}, {"start", num(start)}, {"end", num(end)}, {"step", num(step)}});
  if (!body) return body.error();
  auto r = fleet::parse_query(*body);
  if (!r) return r.error().wrap("Prometheus rejected '" + promql + "'");
  return r;
}

Result<FleetData> load_fleet(Prometheus& prom, const FleetQuery& q) {
  // Every query at once, each on its own connection: Prometheus evaluates them in parallel, and
  // its answer time, not ours, is most of a run. The answers are parsed one at a time, so only
  // one JSON document is ever held parsed (the bound on our memory).
  std::string sel = all_series(q.selector);
  struct Pending {
    std::string promql;
    std::future<Result<std::string>> body;
    Result<std::vector<fleet::PromSeries>> get() {
      auto b = body.get();
      if (!b) return b.error();
      auto r = fleet::parse_query(*b);
      if (!r) return r.error().wrap("Prometheus rejected '" + promql + "'");
      return r;
    }
  };
  auto range = [&](std::string promql, double step) {
    Pending p{promql, std::async(std::launch::async, [&prom, &q, promql, step] {
                return Prometheus(prom.url())
                    .api("query_range", {{"query", promql},
                                         {"start", num(q.start_s)},
                                         {"end", num(q.end_s)},
                                         {"step", num(step)}});
              })};
    return p;
  };
  // The cardinality query comes first: it also checks the selector (Prometheus parses it; a typo
  // comes back as its own message) and whether anything matched.
  auto counts = range("count by (__name__, instance, job) (" + sel + ")", q.count_step_s);
  std::vector<Pending> families;
  for (const fleet::Family& f : fleet::memory_families())
    families.push_back(range(std::string(f.aggregate) + " by (instance, job) (" +
                                 fleet::with_selector(f.name, q.selector) + ")",
                             q.step_s));
  auto start =
      range("max by (instance, job) (" + fleet::with_selector(fleet::kStartTime, q.selector) + ")",
            q.step_s);
  auto restarts = range(
      "sum by (instance, job) (" + fleet::with_selector(fleet::kRestartCount, q.selector) + ")",
      q.step_s);
  auto limit = prom.query("max by (instance, job) (max_over_time(" +
                              fleet::with_selector(fleet::kContainerLimit, q.selector) + "[" +
                              std::to_string(int64_t(q.end_s - q.start_s)) + "s]) > 0)",
                          q.end_s);

  // The targets' own labels (service discovery may carry a debug address: --debug-url '{pprof}').
  auto targets = prom.query("max_over_time(" + fleet::with_selector("up", q.selector) + "[" +
                                std::to_string(int64_t(q.end_s - q.start_s)) + "s])",
                            q.end_s);

  std::map<std::string, fleet::InstanceData> by;
  FleetData out;
  auto count_series = counts.get();
  if (!count_series) return count_series.error();
  if (count_series->empty()) return make_error("no series matched " + sel + " in the window");
  for (auto& s : *count_series) {
    fleet::FamilyCount c;
    c.family = s.labels["__name__"];
    c.instance = s.labels["instance"];
    c.job = s.labels["job"];
    c.count = std::move(s.values);
    slot(by, s);
    out.counts.push_back(std::move(c));
  }
  for (size_t i = 0; i < families.size(); ++i) {
    auto r = families[i].get();  // NOLINT
    if (!r) return r.error();
    for (const auto& s : *r) slot(by, s).families[fleet::memory_families()[i].name] = s.values;
  }
  auto st = start.get();
  if (!st) return st.error();
  for (const auto& s : *st) slot(by, s).start_time = s.values;
  auto rc = restarts.get();
  if (!rc) return rc.error();
  for (const auto& s : *rc) slot(by, s).restart_count = s.values;
  if (!limit) return limit.error();
  for (const auto& s : *limit)
    if (!s.values.x.empty() && s.values.x[0] < 1e18) slot(by, s).limit_bytes = s.values.x[0];

  if (targets)
    for (const auto& s : *targets)
      if (auto it = by.find(s.labels.count("instance") ? s.labels.at("instance") : "");
          it != by.end())
        it->second.labels = s.labels;
  by.erase("");  // series without an instance label cannot be told apart
  for (auto& [name, d] : by) out.instances.push_back(std::move(d));
  if (out.instances.empty()) return make_error("no series with an instance label matched " + sel);
  return out;
}

void find_growing_labels(Prometheus& prom, const FleetQuery& q, fleet::FleetReport& report) {
  size_t done = 0;
  for (fleet::MetricVerdict& m : report.metrics) {
    if (m.verdict != analysis::Verdict::kLeak || done++ == 5) continue;
    std::string series = fleet::with_selector(m.family, q.selector);
    auto body =
        prom.api("labels", {{"match[]", series}, {"start", num(q.start_s)}, {"end", num(q.end_s)}});
    if (!body) continue;
    auto labels = fleet::parse_strings(*body);
    if (!labels) continue;
    double best = 0;
    for (const std::string& l : *labels) {
      if (l == "__name__" || l == "instance" || l == "job") continue;
      std::string promql = "count(count by (" + l + ") (" + series + "))";
      auto a = prom.query(promql, q.start_s + q.count_step_s);
      auto b = prom.query(promql, q.end_s);
      auto value = [](const auto& r) {
        return r && !r->empty() && !(*r)[0].values.x.empty() ? (*r)[0].values.x[0] : 0.0;
      };
      double grew = value(b) - value(a);
      if (grew > best) {
        best = grew;
        m.label = l;
      }
    }
    if (!m.label.empty()) m.evidence += "; label '" + m.label + "' gains values";
  }
}

std::string tsdb_note(Prometheus& prom) {
  auto body = prom.api("status/tsdb", {});
  if (!body) return "";
  auto top = fleet::parse_tsdb_status(*body);
  if (!top || top->empty()) return "";
  std::string note = "largest families in Prometheus's head block (/api/v1/status/tsdb): ";
  for (size_t i = 0; i < top->size() && i < 5; ++i)
    note += (i ? ", " : "") + (*top)[i].first + " " + std::to_string((*top)[i].second);
  return note;
}

}  // namespace leakscope::cli
