// General-purpose compressors (zlib -9, zstd -19, xz -9) for comparison in the codec benchmark
// only. Built as agilenn_codec_compare, never linked into agilenn_codec or the device path.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace agilenn::codec::compare {

struct Compressor {
  std::string name;  // "zlib-9", "zstd-19", "xz-9"
  std::vector<uint8_t> (*compress)(std::span<const uint8_t>);
  // Decompresses to exactly `size` bytes; throws agilenn::Error otherwise.
  std::vector<uint8_t> (*decompress)(std::span<const uint8_t>, size_t size);
};

const std::vector<Compressor>& general_purpose_compressors();

}  // namespace agilenn::codec::compare
