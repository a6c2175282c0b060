// leakscope top PROFILE: the functions that hold the most, like `pprof -top`, on any pprof file
// (a Go service's /debug/pprof/heap, the agent's, pprof's own). Raw addresses are symbolized
// from the local binaries first. Same grouping, sort and value labels as pprof's default, so the
// two can be read side by side; --json gives the values in the profile's own unit.
// --write-profile FILE writes the profile as loaded (after symbolization) with our encoder, so a
// profile symbolized here opens in `pprof` and `go tool pprof` with its names.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/profile_view.h"
#include "core/profile/pprof_codec.h"

namespace leakscope::cli {
namespace {

struct TopOptions {
  std::string path;
  int64_t count = 20;  // rows to print; 0: all
  std::string sample_type;
  bool by_cum = false;
  bool json = false;
  std::string write_profile;
};

// The smallest non-zero magnitude among the rows (flat, else cum): pprof's choice of unit.
int64_t smallest_value(const std::vector<FunctionRow>& rows) {
  int64_t lo = 0;
  for (const FunctionRow& r : rows) {
    int64_t v = std::abs(r.flat != 0 ? r.flat : r.cum);
    if (v > 0 && (lo == 0 || v < lo)) lo = v;
  }
  return lo;
}

void print_json(const TopOptions& o, const ValueType& type, const FunctionTotals& totals,
                size_t shown) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (size_t i = 0; i < shown; ++i) {
    const FunctionRow& r = totals.rows[i];
    rows.push_back({{"function", r.function},
                    {"file", r.file},
                    {"line", r.line},
                    {"flat", r.flat},
                    {"cum", r.cum}});
  }
  nlohmann::ordered_json out = {{"schema", "leakscope.top/v1"}, {"profile", o.path},
                                {"sample_type", type.type},     {"unit", type.unit},
                                {"total", totals.total},        {"rows", rows}};
  std::printf("%s\n", out.dump(2).c_str());
}

void print_text(const TopOptions& o, const ValueType& type, const FunctionTotals& totals,
                size_t shown) {
  std::vector<FunctionRow> rows(totals.rows.begin(), totals.rows.begin() + shown);
  ValueFormat fmt(type.unit, smallest_value(rows), totals.total);
  int64_t shown_flat = 0;
  for (const FunctionRow& r : rows) shown_flat += r.flat;
  std::printf("Profile: %s\nType: %s\n", o.path.c_str(), type.type.c_str());
  std::string pct = percentage(shown_flat, totals.total);
  pct.erase(0, pct.find_first_not_of(' '));
  std::printf("Showing nodes accounting for %s, %s of %s total\n", fmt(shown_flat).c_str(),
              pct.c_str(), fmt(totals.total).c_str());
  if (shown < totals.rows.size()) {
    std::printf("Showing top %zu nodes out of %zu\n", shown, totals.rows.size());
  }
  std::printf("%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
  int64_t sum = 0;
  for (const FunctionRow& r : rows) {
    sum += r.flat;
    std::printf("%10s %s %s %10s %s  %s%s%s\n", fmt(r.flat).c_str(),
                percentage(r.flat, totals.total).c_str(), percentage(sum, totals.total).c_str(),
                fmt(r.cum).c_str(), percentage(r.cum, totals.total).c_str(), r.function.c_str(),
                r.inline_label.empty() ? "" : " ", r.inline_label.c_str());
  }
}

int top_command(const TopOptions& o) {
  Result<Profile> profile = load_profile(o.path);
  if (!profile.ok()) return fail(profile.error().message);
  std::string note = symbolize_for_view(*profile);
  if (!note.empty())
    std::fprintf(stderr, "leakscope: note: %s: %s\n", o.path.c_str(), note.c_str());
  if (!o.write_profile.empty()) {
    Result<void> written = write_profile_file(o.write_profile, *profile);
    if (!written.ok()) return fail(written.error().message);
  }
  Result<size_t> index = pick_sample_type(*profile, o.sample_type);
  if (!index.ok()) return fail(o.path + ": " + index.error().message);
  FunctionTotals totals = function_totals(*profile, *index, o.by_cum);
  size_t shown = totals.rows.size();
  if (o.count > 0) shown = std::min(shown, static_cast<size_t>(o.count));
  const ValueType& type = profile->sample_types[*index];
  if (o.json) {
    print_json(o, type, totals, shown);
  } else {
    print_text(o, type, totals, shown);
  }
  return kExitOk;
}

const RegisterCommand kTop{{
    "top",
    "the functions holding the most in a pprof file, like pprof -top",
    [](CLI::App& sub) -> std::function<int()> {
      auto o = std::make_shared<TopOptions>();
      sub.add_option("profile", o->path, "a pprof file (gzip'd or not)")->required();
      sub.add_option("-n", o->count, "rows to show; 0: all (default 20)");
      sub.add_option("--sample-type", o->sample_type,
                     "the value to show, e.g. alloc_space (default: the profile's default, as "
                     "pprof chooses: inuse_space for a heap profile)");
      sub.add_flag("--cum", o->by_cum, "sort by cumulative value instead of flat");
      sub.add_flag("--json", o->json, "print leakscope.top/v1 JSON, values in the profile's unit");
      sub.add_option("--write-profile", o->write_profile,
                     "also write the profile as loaded (symbolized) to this file, gzip'd pprof");
      return [o] { return top_command(*o); };
    },
}};

}  // namespace
}  // namespace leakscope::cli
