#include "codec/compare/general_purpose.h"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "nn/io/error.h"

namespace agilenn::codec::compare {
namespace {

std::vector<uint8_t> zlib_compress(std::span<const uint8_t> in) {
  uLongf n = compressBound(uLong(in.size()));
  std::vector<uint8_t> out(n);
  if (compress2(out.data(), &n, in.data(), uLong(in.size()), 9) != Z_OK)
    throw Error("zlib: compress2 failed");
  out.resize(n);
  return out;
}
std::vector<uint8_t> zlib_decompress(std::span<const uint8_t> in, size_t size) {
  std::vector<uint8_t> out(size);
  uLongf n = uLongf(size);
  if (uncompress(out.data(), &n, in.data(), uLong(in.size())) != Z_OK || n != size)
    throw Error("zlib: uncompress failed");
  return out;
}

std::vector<uint8_t> zstd_compress(std::span<const uint8_t> in) {
  std::vector<uint8_t> out(ZSTD_compressBound(in.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 19);
  if (ZSTD_isError(n)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}
std::vector<uint8_t> zstd_decompress(std::span<const uint8_t> in, size_t size) {
  std::vector<uint8_t> out(size);
  const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n) || n != size) throw Error("zstd: decompress failed");
  return out;
}

std::vector<uint8_t> xz_compress(std::span<const uint8_t> in) {
  std::vector<uint8_t> out(lzma_stream_buffer_bound(in.size()));
  size_t pos = 0;
  if (lzma_easy_buffer_encode(9, LZMA_CHECK_CRC32, nullptr, in.data(), in.size(), out.data(), &pos,
                              out.size()) != LZMA_OK)
    throw Error("xz: encode failed");
  out.resize(pos);
  return out;
}
std::vector<uint8_t> xz_decompress(std::span<const uint8_t> in, size_t size) {
  std::vector<uint8_t> out(size);
  uint64_t memlimit = UINT64_MAX;
  size_t in_pos = 0, out_pos = 0;
  if (lzma_stream_buffer_decode(&memlimit, 0, nullptr, in.data(), &in_pos, in.size(), out.data(),
                                &out_pos, out.size()) != LZMA_OK ||
      out_pos != size)
    throw Error("xz: decode failed");
  return out;
}

}  // namespace

const std::vector<Compressor>& general_purpose_compressors() {
  static const std::vector<Compressor> all = {
      {"zlib-9", zlib_compress, zlib_decompress},
      {"zstd-19", zstd_compress, zstd_decompress},
      {"xz-9", xz_compress, xz_decompress},
  };
  return all;
}

}  // namespace agilenn::codec::compare
