// Replay driver for libFuzzer targets in ordinary builds.
//
// Runs LLVMFuzzerTestOneInput on every file named on the command line (seed
// corpora), then on deterministic mutations of those seeds (bit flips,
// truncations, byte insertions) and on pseudo-random buffers, so `bazel test`
// exercises each target's parser without a fuzzing toolchain. A crash or
// sanitizer report fails the test.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Run(const std::string& input) {
  // Copy into an exactly-sized heap buffer so overreads are caught by ASan.
  std::vector<uint8_t> buf(input.begin(), input.end());
  LLVMFuzzerTestOneInput(buf.data(), buf.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> seeds = {""};
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "replay: cannot read %s\n", argv[i]);
      return 2;
    }
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::mt19937_64 rng(0x5eed);
  size_t runs = 0;
  for (const std::string& seed : seeds) {
    Run(seed);
    ++runs;
    for (int m = 0; m < 2000; ++m) {
      std::string s = seed;
      switch (rng() % 4) {
        case 0:
          if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
          break;
        case 1:
          if (!s.empty()) s.resize(rng() % s.size());
          break;
        case 2:
          s.insert(s.begin() + (s.empty() ? 0 : rng() % s.size()), static_cast<char>(rng()));
          break;
        default: {
          s.assign(rng() % 512, '\0');
          for (char& c : s) c = static_cast<char>(rng());
        }
      }
      Run(s);
      ++runs;
    }
  }
  std::printf("replay: %zu inputs from %zu seeds, no crash\n", runs, seeds.size());
  return 0;
}
