// A features file for the codec benchmark until trained models exist:
//   FILE       raw little-endian float32 values of an NHWC map (N, H, W, C), no header
//   FILE.json  {"shape": [N, H, W, C], "k": 5, "centroids": [c_0, ...],
//               "image_bytes": 784}   (image_bytes optional: raw input image size, for rates)
// k = local channels (the first k are kept on the device; the other C - k are coded);
// centroids strictly increasing, 2..256 of them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "codec/split.h"

namespace agilenn::codec {

struct FeaturesFile {
  FeatureShape shape;
  uint32_t k = 0;
  std::vector<float> centroids;
  uint64_t image_bytes = 0;   // 0: not given
  std::vector<float> values;  // NHWC
};

FeaturesFile read_features_file(const std::string& path);
// Writes FILE and FILE.json atomically.
void write_features_file(const std::string& path, const FeaturesFile& f);

}  // namespace agilenn::codec
