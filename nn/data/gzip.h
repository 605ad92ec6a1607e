// Whole-file gzip decompression (zlib), for the IDX files Fashion-MNIST ships as .gz.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace agilenn::data {

bool is_gzip(std::span<const uint8_t> bytes);  // starts with the gzip magic 1f 8b
// Decompresses a gzip image (all members); throws agilenn::Error "<source>: ..." when the data is
// not gzip, corrupt or truncated, or inflates beyond `max_output` bytes.
std::vector<uint8_t> gunzip(std::span<const uint8_t> compressed, const std::string& source,
                            size_t max_output = size_t(1) << 32);

}  // namespace agilenn::data
