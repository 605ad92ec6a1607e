// Images for calibration and checks: Fashion-MNIST IDX files (gzip'd, as Debian ships them) or
// seeded random pixels. Each image is H*W*C uint8, NHWC.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace agilenn::mcu {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads up to `max_images` images from a gzip'd (or plain) IDX3 file; throws agilenn::Error naming
// the file on a bad magic number, truncated data or a missing file.
std::vector<std::vector<uint8_t>> read_idx_images(const std::string& path, size_t max_images,
                                                  int* rows = nullptr, int* cols = nullptr);
std::vector<std::vector<uint8_t>> random_images(size_t n, size_t bytes_per_image, uint64_t seed);

}  // namespace agilenn::mcu
