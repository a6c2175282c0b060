// Checker for the agent's accuracy tests: decodes heap profiles with leakscope's own decoder
// and sums one sample type per site, a site being a function of a non-PIE test program given
// by its address range (from `nm -S`). A sample belongs to a site when its leaf location lies
// in the site's range. Prints each profile's figures and the mean over all profiles, and
// checks expectations on the mean.
//
// usage: profile_sites --site NAME:START_HEX:SIZE_HEX ...
//          --expect NAME:TYPE:BYTES:TOLERANCE ... PROFILE...
// TOLERANCE is relative (0.1 = 10%; 0 = exact). Exit 0 when every expectation holds.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/profile/pprof_codec.h"
#include "core/profile/profile_ops.h"

namespace {

struct Site {
  std::string name;
  uint64_t start, size;
};

struct Expect {
  std::string site, type;
  double bytes, tolerance;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t at = s.find(sep, pos);
    out.push_back(s.substr(pos, at - pos));
    if (at == std::string::npos) return out;
    pos = at + 1;
  }
}

// Sum of sample type `type` per site in one profile.
std::map<std::string, double> per_site(const leakscope::Profile& p, const std::vector<Site>& sites,
                                       const std::string& type) {
  std::map<std::string, double> out;
  size_t index = p.sample_types.size();
  for (size_t i = 0; i < p.sample_types.size(); ++i) {
    if (p.sample_types[i].type == type) index = i;
  }
  if (index == p.sample_types.size()) return out;
  std::map<uint64_t, uint64_t> address_of;
  for (const auto& l : p.locations) address_of[l.id] = l.address;
  for (const auto& s : p.samples) {
    if (s.location_ids.empty()) continue;
    uint64_t leaf = address_of[s.location_ids[0]];
    for (const Site& site : sites) {
      if (leaf >= site.start && leaf < site.start + site.size) {
        out[site.name] += static_cast<double>(s.values[index]);
      }
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Site> sites;
  std::vector<Expect> expects;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--site" || arg == "--expect") && i + 1 < argc) {
      auto parts = split(argv[++i], ':');
      if (arg == "--site" && parts.size() == 3) {
        sites.push_back(
            {parts[0], std::stoull(parts[1], nullptr, 16), std::stoull(parts[2], nullptr, 16)});
      } else if (arg == "--expect" && parts.size() == 4) {
        expects.push_back({parts[0], parts[1], std::stod(parts[2]), std::stod(parts[3])});
      } else {
        fprintf(stderr, "profile_sites: bad %s %s\n", arg.c_str(), argv[i]);
        return 2;
      }
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    fprintf(stderr, "profile_sites: no profiles\n");
    return 2;
  }
  std::map<std::pair<std::string, std::string>, double> sum;  // (site, type) -> sum
  for (const std::string& file : files) {
    auto profile = leakscope::read_profile_file(file);
    if (!profile) {
      fprintf(stderr, "profile_sites: %s\n", profile.error().message.c_str());
      return 1;
    }
    for (const Expect& e : expects) {
      double v = per_site(*profile, sites, e.type)[e.site];
      sum[{e.site, e.type}] += v;
    }
  }
  bool ok = true;
  for (const Expect& e : expects) {
    double mean = sum[{e.site, e.type}] / static_cast<double>(files.size());
    double err = e.bytes > 0 ? (mean - e.bytes) / e.bytes : mean;
    bool pass = e.tolerance == 0 ? std::llround(mean) == std::llround(e.bytes)
                                 : std::fabs(err) <= e.tolerance;
    printf("%-16s %-12s mean over %zu profiles %.0f, truth %.0f, error %+.2f%% %s\n",
           e.site.c_str(), e.type.c_str(), files.size(), mean, e.bytes, 100 * err,
           pass ? "ok" : "FAIL");
    ok = ok && pass;
  }
  return ok ? 0 : 1;
}
