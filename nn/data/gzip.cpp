#include "nn/data/gzip.h"

#include <zlib.h>

#include <algorithm>

#include "nn/io/error.h"

namespace agilenn::data {

bool is_gzip(std::span<const uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

std::vector<uint8_t> gunzip(std::span<const uint8_t> compressed, const std::string& source,
                            size_t max_output) {
  if (!is_gzip(compressed)) throw error_at(source, "not a gzip file (no 1f 8b magic)");
  std::vector<uint8_t> out;
  size_t in_pos = 0;
  // A gzip file may hold several members back to back; inflate each.
  while (in_pos < compressed.size()) {
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw error_at(source, "zlib init failed");
    zs.next_in = const_cast<Bytef*>(compressed.data() + in_pos);
    zs.avail_in = uInt(std::min<size_t>(compressed.size() - in_pos, 1u << 30));
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      if (out.size() >= max_output) {
        inflateEnd(&zs);
        throw error_at(source,
                       "decompresses to more than " + std::to_string(max_output) + " bytes");
      }
      const size_t chunk = std::min<size_t>(1 << 20, max_output - out.size());
      const size_t old = out.size();
      out.resize(old + chunk);
      zs.next_out = out.data() + old;
      zs.avail_out = uInt(chunk);
      rc = inflate(&zs, Z_NO_FLUSH);
      out.resize(old + (chunk - zs.avail_out));
      if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
        inflateEnd(&zs);
        throw error_at(source, "truncated gzip data");
      }
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        const std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
        inflateEnd(&zs);
        throw error_at(source, "corrupt gzip data: " + msg);
      }
    }
    in_pos += zs.total_in;
    inflateEnd(&zs);
    // Trailing zero padding after the last member is tolerated, anything else must be gzip.
    size_t rest = in_pos;
    while (rest < compressed.size() && compressed[rest] == 0) ++rest;
    if (rest == compressed.size()) break;
    if (!is_gzip(compressed.subspan(in_pos)))
      throw error_at(source, "trailing garbage after the gzip data");
  }
  return out;
}

}  // namespace agilenn::data
