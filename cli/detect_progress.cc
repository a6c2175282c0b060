// See detect_progress.h.
#include "cli/detect_progress.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/analysis/judge.h"
#include "core/analysis/sites.h"
#include "core/profile/profile_ops.h"
#include "core/symbolize/symbolizer.h"

namespace leakscope::cli {
namespace {

using analysis::human;

// In-use bytes per site function.
std::map<std::string, double> by_site(const Profile& p) {
  std::map<std::string, double> out;
  auto idx = select_sample_type(p, "inuse_space");
  if (!idx) return out;
  for (const Sample& s : p.samples) {
    if (*idx >= s.values.size() || s.values[*idx] == 0) continue;
    std::vector<Frame> stack = frames_of(p, s);
    if (stack.empty()) continue;
    const Frame& site = stack[analysis::site_index(stack)];
    out[analysis::short_function_name(site.function, 48)] += static_cast<double>(s.values[*idx]);
  }
  return out;
}

double total(const std::map<std::string, double>& sites) {
  double t = 0;
  for (const auto& [name, v] : sites) t += v;
  return t;
}

}  // namespace

std::string top_grower(const Profile* before, const Profile& after) {
  std::map<std::string, double> then = before ? by_site(*before) : std::map<std::string, double>{};
  std::string best;
  double grew = 0;
  for (const auto& [name, v] : by_site(after)) {
    double d = v - (then.count(name) ? then.at(name) : 0.0);
    if (d > grew) {
      grew = d;
      best = name;
    }
  }
  return best.empty() ? "" : best + " +" + human(grew, "bytes");
}

ProgressLog::ProgressLog(double every_s)
    : every_s_(every_s), symbolizer_(std::make_unique<Symbolizer>()) {}
ProgressLog::~ProgressLog() = default;

std::string ProgressLog::line(const Snapshot& first, const Snapshot& now,
                              std::optional<double> left_s) {
  char head[96];
  if (left_s)
    std::snprintf(head, sizeof head, "leakscope: [%s %.0f s, %.0f s left] ",
                  analysis::to_string(now.phase), now.t_s, std::max(0.0, *left_s));
  else
    std::snprintf(head, sizeof head, "leakscope: [%s %.0f s, until the load ends] ",
                  analysis::to_string(now.phase), now.t_s);
  std::string s = head;
  std::string figures;
  auto add = [&](const std::string& f) { figures += (figures.empty() ? "" : ", ") + f; };
  if (now.proc.rss_bytes) add("rss " + human(static_cast<double>(*now.proc.rss_bytes), "bytes"));
  auto heap = now.profiles.find(analysis::Signal::kHeap);
  std::string grower;
  if (heap != now.profiles.end() && now.phase == analysis::Phase::kBaseline) {
    add("heap " + human(total(by_site(heap->second)), "bytes"));  // nothing has grown yet
  } else if (heap != now.profiles.end()) {
    // Symbolizing opens the target's debug info: not before the load, so that leakscope does
    // not compete for the CPU with a target that is still starting.
    Profile after = heap->second;
    (void)symbolizer_->symbolize(after);
    add("heap " + human(total(by_site(after)), "bytes"));
    auto then = first.profiles.find(analysis::Signal::kHeap);
    if (!first_heap_ && then != first.profiles.end()) {
      first_heap_ = then->second;
      (void)symbolizer_->symbolize(*first_heap_);
    }
    grower = top_grower(first_heap_ ? &*first_heap_ : nullptr, after);
  }
  if (now.proc.threads) add("threads " + std::to_string(*now.proc.threads));
  if (now.proc.fds) add("fds " + std::to_string(*now.proc.fds));
  s += figures.empty() ? "no figures yet" : figures;
  if (!grower.empty()) s += "; top grower: " + grower;
  return s;
}

void ProgressLog::maybe_print(const Snapshot& first, const Snapshot& now,
                              std::optional<double> left_s) {
  if (!last_t_s_) last_t_s_ = first.t_s;  // the first line after every_s, not at once
  if (now.t_s - *last_t_s_ < every_s_) return;
  last_t_s_ = now.t_s;
  std::fprintf(stderr, "%s\n", line(first, now, left_s).c_str());
  std::fflush(stderr);
}

}  // namespace leakscope::cli
