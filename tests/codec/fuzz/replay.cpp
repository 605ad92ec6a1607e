// Replays files (or every file in directories) through the fuzz target: the committed seed
// corpus and every crash ever found run in each build and in CI, without libFuzzer.
//   codec_fuzz_replay tests/codec/fuzz/corpus tests/codec/fuzz/crashes
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_target.h"
#include "nn/io/atomic_file.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.')
          files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const auto bytes = agilenn::read_file_bytes(f.string());
    agilenn::codec::fuzz::fuzz_one(bytes.data(), bytes.size());
  }
  std::printf("replay: %zu inputs ran clean\n", files.size());
  return files.empty() ? 1 : 0;
}
