// Synthetic feature maps for fitting and testing the codec before a trained model exists:
// smooth random fields shared across channels (a few latent fields mixed per channel, plus
// per-position noise), passed through ReLU6, so maps are spatially smooth, correlated across
// channels and sparse (many exact zeros) like a ReLU6 extractor's output. Seeded and portable
// (splitmix64 + Box-Muller written out here, no std:: distributions).
#pragma once
#include <cstdint>
#include <vector>

#include "codec/split.h"

namespace agilenn::codec {

struct SyntheticSpec {
  uint32_t n = 100, height = 14, width = 14, channels = 24;
  uint32_t alphabet = 8;    // centroid count C
  uint64_t seed = 1;        // per-image fields come from this seed
  uint64_t model_seed = 7;  // channel mixing/gains (the "extractor"): shared by train and test
};

struct SyntheticFeatures {
  FeatureShape shape;            // (N, H, W, C)
  std::vector<float> values;     // NHWC
  std::vector<float> centroids;  // C increasing values in [0, 6] (6 * sigmoid(w), like training)
};

SyntheticFeatures make_synthetic_features(const SyntheticSpec& spec);

// splitmix64: small, portable, what the tests use for random streams too.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double normal();

 private:
  uint64_t s_;
};

}  // namespace agilenn::codec
