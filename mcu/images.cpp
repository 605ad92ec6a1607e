#include "mcu/images.h"

#include <zlib.h>

#include <random>

#include "nn/io/error.h"

namespace agilenn::mcu {

std::vector<std::vector<uint8_t>> read_idx_images(const std::string& path, size_t max_images,
                                                  int* rows_out, int* cols_out) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files too
  if (!f) throw error_at(path, "cannot open");
  auto read_exact = [&](void* dst, unsigned n) {
    int got = gzread(f, dst, n);
    if (got != int(n)) {
      gzclose(f);
      throw error_at(path, "truncated IDX file");
    }
  };
  uint8_t h[16];
  read_exact(h, 16);
  auto be32 = [&](int o) {
    return uint32_t(h[o]) << 24 | uint32_t(h[o + 1]) << 16 | uint32_t(h[o + 2]) << 8 | h[o + 3];
  };
  if (be32(0) != 0x00000803) {
    gzclose(f);
    throw error_at(path, "not an IDX3 uint8 image file (magic " + std::to_string(be32(0)) + ")");
  }
  uint32_t n = be32(4), rows = be32(8), cols = be32(12);
  if (rows == 0 || cols == 0 || rows > 4096 || cols > 4096) {
    gzclose(f);
    throw error_at(path, "implausible image size");
  }
  size_t count = std::min<size_t>(n, max_images);
  std::vector<std::vector<uint8_t>> out(count, std::vector<uint8_t>(size_t(rows) * cols));
  for (auto& im : out) read_exact(im.data(), unsigned(im.size()));
  gzclose(f);
  if (rows_out) *rows_out = int(rows);
  if (cols_out) *cols_out = int(cols);
  return out;
}

std::vector<std::vector<uint8_t>> random_images(size_t n, size_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<uint8_t>> out(n, std::vector<uint8_t>(bytes));
  for (auto& im : out)
    for (auto& p : im) p = uint8_t(rng() >> 56);
  return out;
}

}  // namespace agilenn::mcu
