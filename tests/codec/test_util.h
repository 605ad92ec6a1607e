// Shared helpers for the codec tests: seeded streams and a small fitted table set.
#pragma once
#include <cstdint>
#include <vector>

#include "codec/packet.h"
#include "codec/quantize.h"
#include "codec/synthetic.h"
#include "codec/tables.h"
#include "nn/io/error.h"

namespace agilenn::codec::test {

// Quantized synthetic streams: n images of (H, W, 24 - k) indices back to back.
inline std::vector<uint8_t> synthetic_indices(uint32_t n, uint32_t h, uint32_t w, uint32_t k,
                                              uint32_t alphabet, uint64_t seed) {
  SyntheticSpec spec;
  spec.n = n;
  spec.height = h;
  spec.width = w;
  spec.alphabet = alphabet;
  spec.seed = seed;
  const SyntheticFeatures f = make_synthetic_features(spec);
  const uint32_t r = f.shape.channels - k;
  std::vector<float> local(size_t(n) * h * w * k), remote(size_t(n) * h * w * r);
  split_channels(f.values, f.shape, k, local, remote);
  std::vector<uint8_t> idx(remote.size());
  Quantizer(f.centroids).quantize(remote, idx);
  return idx;
}

// Tables fitted on 24 synthetic 14x14 maps (k = 5, C = 8): what most tests encode with.
inline const CodecTables& default_tables() {
  static const CodecTables t = [] {
    const auto train = synthetic_indices(24, 14, 14, 5, 8, 1001);
    return CodecTables::fit(train, 24, {14, 14, 19}, 8, 5);
  }();
  return t;
}

}  // namespace agilenn::codec::test
