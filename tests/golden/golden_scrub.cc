// golden_scrub SOURCE_ROOT IN_DIR OUT_DIR FILE...: makes a recorded run's profiles fit to check
// in (tests/golden/make_golden.sh): each FILE (a path relative to IN_DIR) is decoded, symbolized
// here, once, and written to OUT_DIR with its machine paths taken out: a source file under
// SOURCE_ROOT keeps its path relative to it, and a mapping there becomes /golden/<that path> (a
// file no machine has, so the golden test's symbolizer can never resolve it differently); other
// mappings (system libraries) keep their path and build ID, so elsewhere the symbolizer finds a
// different build and leaves them as they are.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "core/profile/pprof_codec.h"
#include "core/symbolize/symbolizer.h"

namespace {

bool under(const std::string& path, const std::string& root) {
  return path.rfind(root + "/", 0) == 0;
}

std::string relative(const std::string& path, const std::string& root) {
  return under(path, root) ? path.substr(root.size() + 1) : path;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: golden_scrub SOURCE_ROOT IN_DIR OUT_DIR FILE...\n");
    return 2;
  }
  const std::string root = argv[1], in_dir = argv[2], out_dir = argv[3];
  leakscope::Symbolizer symbolizer;
  for (int i = 4; i < argc; ++i) {
    std::ifstream in(in_dir + "/" + argv[i], std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto p = leakscope::decode_profile(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (!p) {
      std::fprintf(stderr, "%s: %s\n", argv[i], p.error().message.c_str());
      return 1;
    }
    (void)symbolizer.symbolize(*p);
    for (leakscope::Mapping& m : p->mappings) {
      if (!under(m.filename, root)) continue;
      m.filename = "/golden/" + relative(m.filename, root);
      m.build_id.clear();
    }
    for (leakscope::Function& f : p->functions) f.filename = relative(f.filename, root);
    std::vector<uint8_t> out = leakscope::encode_profile(*p);
    std::ofstream(out_dir + "/" + argv[i], std::ios::binary)
        .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  }
  return 0;
}
