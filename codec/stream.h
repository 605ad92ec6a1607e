// The index stream of one image: H x W x R centroid indices in NHWC order (R = remote channels),
// each in [0, alphabet). Every coder works on exactly this layout.
#pragma once
#include <cstddef>
#include <cstdint>

namespace agilenn::codec {

struct StreamShape {
  uint32_t height = 0;
  uint32_t width = 0;
  uint32_t channels = 0;  // remote channels R
  size_t size() const { return size_t(height) * width * channels; }
  bool operator==(const StreamShape&) const = default;
};

// Position of (y, x, r) in the NHWC stream of one image.
inline size_t stream_offset(const StreamShape& s, uint32_t y, uint32_t x, uint32_t r) {
  return (size_t(y) * s.width + x) * s.channels + r;
}

// Bits needed to write any index of an alphabet of `alphabet` symbols (1 for alphabet 2).
inline unsigned index_bits(unsigned alphabet) {
  unsigned bits = 0;
  while ((1u << bits) < alphabet) ++bits;
  return bits;
}

constexpr unsigned kMaxAlphabet = 256;

}  // namespace agilenn::codec
