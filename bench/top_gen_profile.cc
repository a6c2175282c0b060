// top_gen_profile OUT [TARGET_MB]: writes a synthetic heap profile of about TARGET_MB (default
// 50) megabytes of *uncompressed* protobuf, for bench/top_vs_pprof.sh.
//
// Realistic in shape, not in content: a service of a few thousand functions (namespaced C++
// names, a main binary and a few libraries) whose call graph is layered, each function calling
// a handful of functions in the next layers; a sample is a walk from main down that graph, 12 to
// 40 frames deep, ending in an allocator-side leaf, with Go's four heap values and a "bytes"
// label. About one location in five carries an inlined frame. Locations are shared between
// stacks as in a real program (a call site is one location), so the profile has many more
// samples than locations, which is where decoders and report builders spend their time.
// Deterministic (fixed seed): every run writes the same bytes.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "core/profile/pprof_codec.h"

namespace {

using leakscope::Profile;

constexpr int kFunctions = 3000;
constexpr int kLayers = 40;
constexpr int kCallSitesPerFunction = 6;
constexpr int kLibraries = 4;

Profile make_profile(int64_t target_bytes) {
  std::mt19937_64 rng(20261122);
  Profile p;
  p.sample_types = {{"alloc_objects", "count"},
                    {"alloc_space", "bytes"},
                    {"inuse_objects", "count"},
                    {"inuse_space", "bytes"}};
  p.period_type = {"space", "bytes"};
  p.period = 512 * 1024;
  p.mappings.push_back({1, 0x400000, 0x4000000, 0, "/usr/bin/service", "", true, true, true, true});
  for (int i = 0; i < kLibraries; ++i) {
    uint64_t base = 0x7f0000000000ull + static_cast<uint64_t>(i) * 0x10000000ull;
    p.mappings.push_back({static_cast<uint64_t>(i + 2), base, base + 0x1000000, 0,
                          "/usr/lib/libservice" + std::to_string(i) + ".so", "", true, true, true,
                          true});
  }
  for (int f = 0; f < kFunctions; ++f) {
    std::string name = "service::module" + std::to_string(f % 97) + "::Handler" +
                       std::to_string(f) + "::process(int, std::string const&)";
    p.functions.push_back({static_cast<uint64_t>(f + 1), name, "_ZN7service" + std::to_string(f),
                           "src/module" + std::to_string(f % 97) + ".cc", 10 + f % 500});
  }
  // Function f lives in layer f % kLayers; its call sites call into deeper layers.
  std::vector<std::vector<uint64_t>> sites(kFunctions);  // location ids of f's call sites
  std::vector<std::vector<int>> callee(kFunctions);
  for (int f = 0; f < kFunctions; ++f) {
    for (int s = 0; s < kCallSitesPerFunction; ++s) {
      uint64_t id = p.locations.size() + 1;
      uint64_t mapping = f < kFunctions / 2 ? 1 : 2 + f % kLibraries;
      const auto& m = p.mappings[mapping - 1];
      leakscope::Location loc{id, mapping, m.memory_start + 0x1000 + id * 16, {}, false};
      if (rng() % 5 == 0) {  // an inlined callee's frame, innermost first
        loc.lines.push_back({static_cast<uint64_t>(rng() % kFunctions + 1),
                             static_cast<int64_t>(rng() % 300 + 1), 0});
      }
      loc.lines.push_back({static_cast<uint64_t>(f + 1), static_cast<int64_t>(rng() % 900 + 1), 0});
      p.locations.push_back(loc);
      sites[f].push_back(id);
      int layer = f % kLayers;
      int next_layer = std::min(kLayers - 1, layer + 1 + static_cast<int>(rng() % 3));
      callee[f].push_back(next_layer + kLayers * static_cast<int>(rng() % (kFunctions / kLayers)));
    }
  }
  std::uniform_int_distribution<int> depth_dist(12, 40);
  int64_t approx = 0;
  while (approx < target_bytes) {
    leakscope::Sample s;
    int f = static_cast<int>(rng() % (kFunctions / kLayers)) * kLayers;  // a layer-0 root
    int depth = depth_dist(rng);
    for (int d = 0; d < depth; ++d) {
      int site = static_cast<int>(rng() % kCallSitesPerFunction);
      s.location_ids.push_back(sites[f][site]);
      f = callee[f][site];
    }
    std::reverse(s.location_ids.begin(), s.location_ids.end());  // leaf first
    int64_t objects = static_cast<int64_t>(rng() % 64 + 1), size = 16 << (rng() % 10);
    int64_t live = static_cast<int64_t>(rng() % (objects + 1));
    s.values = {objects, objects * size, live, live * size};
    if (std::getenv("TOP_GEN_NO_LABELS") == nullptr) s.labels.push_back({"bytes", "", size, ""});
    approx += 2 * static_cast<int64_t>(s.location_ids.size()) + 22;  // ~bytes encoded
    p.samples.push_back(std::move(s));
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: top_gen_profile OUT [TARGET_MB]\n");
    return 2;
  }
  int64_t mb = argc > 2 ? std::atoll(argv[2]) : 50;
  Profile p = make_profile(mb * 1024 * 1024);
  std::vector<uint8_t> bytes = leakscope::encode_profile(p, /*gzip=*/false);
  FILE* f = std::fopen(argv[1], "wb");
  if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() ||
      std::fclose(f) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  std::printf("%s: %zu bytes, %zu samples, %zu locations, %zu functions\n", argv[1], bytes.size(),
              p.samples.size(), p.locations.size(), p.functions.size());
  return 0;
}
