// Top-k split of an NHWC feature map (N, H, W, C): the first k channels stay on the device
// (local), the other C - k are sent (remote). Training put the important channels first.
#pragma once
#include <cstdint>
#include <span>

namespace agilenn::codec {

struct FeatureShape {
  uint32_t n = 0, height = 0, width = 0, channels = 0;
  size_t size() const { return size_t(n) * height * width * channels; }
};

// features: (N,H,W,C); local: (N,H,W,k); remote: (N,H,W,C-k). Requires 0 < k < C.
void split_channels(std::span<const float> features, const FeatureShape& shape, uint32_t k,
                    std::span<float> local, std::span<float> remote);

// The inverse (the server side only needs remote, but tests and tools rebuild full maps).
void merge_channels(std::span<const float> local, std::span<const float> remote,
                    const FeatureShape& shape, uint32_t k, std::span<float> features);

}  // namespace agilenn::codec
