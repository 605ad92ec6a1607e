#include "codec/split.h"

#include <string>

#include "nn/io/error.h"

namespace agilenn::codec {
namespace {
void check(const FeatureShape& shape, uint32_t k, size_t features, size_t local, size_t remote) {
  if (shape.channels < 2 || k == 0 || k >= shape.channels)
    throw error_at("split", "k = " + std::to_string(k) + " must be in 1.." +
                                std::to_string(shape.channels == 0 ? 0 : shape.channels - 1));
  const size_t pixels = size_t(shape.n) * shape.height * shape.width;
  if (features != shape.size())
    throw error_at("split", "feature map holds " + std::to_string(features) +
                                " values, shape needs " + std::to_string(shape.size()));
  if (local != pixels * k)
    throw error_at("split", "local buffer holds " + std::to_string(local) + " values, needs " +
                                std::to_string(pixels * k));
  if (remote != pixels * (shape.channels - k))
    throw error_at("split", "remote buffer holds " + std::to_string(remote) + " values, needs " +
                                std::to_string(pixels * (shape.channels - k)));
}
}  // namespace

void split_channels(std::span<const float> features, const FeatureShape& shape, uint32_t k,
                    std::span<float> local, std::span<float> remote) {
  check(shape, k, features.size(), local.size(), remote.size());
  const size_t pixels = size_t(shape.n) * shape.height * shape.width;
  const uint32_t c = shape.channels, r = c - k;
  // features: (P, C) -> local (P, k), remote (P, C-k)
  for (size_t p = 0; p < pixels; ++p) {
    for (uint32_t j = 0; j < k; ++j) local[p * k + j] = features[p * c + j];
    for (uint32_t j = 0; j < r; ++j) remote[p * r + j] = features[p * c + k + j];
  }
}

void merge_channels(std::span<const float> local, std::span<const float> remote,
                    const FeatureShape& shape, uint32_t k, std::span<float> features) {
  check(shape, k, features.size(), local.size(), remote.size());
  const size_t pixels = size_t(shape.n) * shape.height * shape.width;
  const uint32_t c = shape.channels, r = c - k;
  for (size_t p = 0; p < pixels; ++p) {
    for (uint32_t j = 0; j < k; ++j) features[p * c + j] = local[p * k + j];
    for (uint32_t j = 0; j < r; ++j) features[p * c + k + j] = remote[p * r + j];
  }
}

}  // namespace agilenn::codec
