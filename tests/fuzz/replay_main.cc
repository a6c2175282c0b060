// Replays a fuzz target's inputs without libFuzzer: every file of every folder named on the
// command line goes through LLVMFuzzerTestOneInput once. The first folder (the corpus) must
// exist and hold files; the others (regressions) may be absent. A crash or an abort in the
// target fails the test; the last "replaying" line names the input.
#include <stdint.h>
#include <stdio.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  int total = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (!fs::is_directory(argv[i], ec)) {
      if (i == 1) {
        fprintf(stderr, "replay: corpus folder %s does not exist\n", argv[i]);
        return 1;
      }
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(argv[i])) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& path : files) {
      fprintf(stderr, "replaying %s\n", path.c_str());
      std::ifstream in(path, std::ios::binary);
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                 std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++total;
    }
  }
  if (total == 0) {
    fprintf(stderr, "replay: no inputs found\n");
    return 1;
  }
  fprintf(stderr, "replay: %d inputs, no crash\n", total);
  return 0;
}
